// kvision status: the operator's one-screen view of a cluster (topics, groups and their lag,
// throughput, each camera's newest frame) with a verdict per group: OK, LAGGING or STALLED.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "common/clock.h"
#include "kafka/cluster_status.h"
#include "wire/camera_health.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct StatusOptions {
  KafkaOptions kafka;
  double interval_s = 2;
  bool json = false;
  bool watch = false;
  int timeout_ms = 10000;
};

// Exit codes beyond the usual ones, for scripts and health checks.
constexpr int kExitLagging = 3;
constexpr int kExitStalled = 4;
constexpr int kExitUnderReplicated = 5;

std::string id_list(const std::vector<int32_t>& ids) {
  return ids.empty() ? "-" : fmt::format("{}", fmt::join(ids, ","));
}

struct Report {
  const kafka::ClusterSnapshot& before;
  const kafka::ClusterSnapshot& after;
  kafka::ClusterReport judged;
};

double topic_rate(const Report& r, const std::string& topic) {
  int64_t delta = 0;
  for (const auto& p : r.after.partitions) {
    if (p.topic != topic) continue;
    for (const auto& b : r.before.partitions)
      if (b.topic == p.topic && b.partition == p.partition) delta += p.end - b.end;
  }
  return r.judged.seconds > 0 ? static_cast<double>(delta) / r.judged.seconds : 0;
}

// Records in every topic named "<something><suffix>".
int64_t records_with_suffix(const kafka::ClusterSnapshot& s, std::string_view suffix) {
  int64_t n = 0;
  for (const auto& p : s.partitions)
    if (p.topic.ends_with(suffix)) n += p.end - p.start;
  return n;
}

std::string render_table(const Report& r) {
  std::string out;
  const int64_t now = r.after.taken_us;
  out += fmt::format("kvision status  {}  (throughput over the last {:.1f} s)\n\n",
                     format_wall_time(now), r.judged.seconds);
  out += fmt::format("{:<28} {:>5} {:>12} {:>12} {:>10}\n", "TOPIC", "PARTS", "RECORDS",
                     "END OFFSETS", "RECORDS/S");
  std::map<std::string, std::vector<const kafka::PartitionStatus*>> topics;
  for (const auto& p : r.after.partitions) topics[p.topic].push_back(&p);
  for (const auto& [name, parts] : topics) {
    int64_t records = 0;
    int64_t ends = 0;
    for (const auto* p : parts) {
      records += p->end - p->start;
      ends += p->end;
    }
    out += fmt::format("{:<28} {:>5} {:>12} {:>12} {:>10.1f}\n", name, parts.size(), records, ends,
                       topic_rate(r, name));
  }
  // Frames the detectors did not turn into results, each kept on its own topic.
  const int64_t skipped = records_with_suffix(r.after, wire::kSkippedSuffix);
  const int64_t dead = records_with_suffix(r.after, wire::kDeadLetterSuffix);
  if (skipped > 0 || dead > 0) {
    out += fmt::format(
        "\nframes skipped as stale: {} (on *{}, the frames kept for replay); dead-lettered: {} "
        "(*{})\n",
        skipped, wire::kSkippedSuffix, dead, wire::kDeadLetterSuffix);
  }
  // Where each partition lives: its leader and which replicas are in sync.
  out += fmt::format("\n{:<28} {:>4} {:>6} {:>10} {:>10}\n", "PARTITION", "PART", "LEADER",
                     "REPLICAS", "ISR");
  for (const auto& p : r.after.partitions) {
    out += fmt::format("{:<28} {:>4} {:>6} {:>10} {:>10}{}\n", p.topic, p.partition,
                       p.leader >= 0 ? std::to_string(p.leader) : "none", id_list(p.replicas),
                       id_list(p.isr),
                       p.leader < 0           ? "  OFFLINE"
                       : p.under_replicated() ? "  UNDER-REPLICATED"
                                              : "");
  }
  if (r.judged.under_replicated > 0) {
    out += fmt::format("{} partition(s) under-replicated: a broker is down or behind\n",
                       r.judged.under_replicated);
  }
  for (const auto& [g, h] : r.judged.groups) {
    out += fmt::format("\nGROUP {}  state {}  {} member(s)  lag {}  committed {:.1f}/s  {}: {}\n",
                       g->group, g->state, g->members.size(), g->total_lag, h.committed_per_s,
                       kafka::verdict_name(h.verdict), h.reason);
    out += fmt::format("  {:<24} {:>4} {:>10} {:>10} {:>8}  {}\n", "TOPIC", "PART", "COMMITTED",
                       "END", "LAG", "MEMBER");
    for (const auto& p : g->partitions) {
      out += fmt::format("  {:<24} {:>4} {:>10} {:>10} {:>8}  {}\n", p.topic, p.partition,
                         p.committed >= 0 ? std::to_string(p.committed) : "-", p.end, p.lag,
                         p.member.empty() ? "-" : p.member);
    }
  }
  if (!r.after.cameras.empty()) {
    out += fmt::format("\n{:<20} {:<20} {:>8} {:>26} {:>9}\n", "CAMERA", "TOPIC", "SEQ",
                       "NEWEST FRAME CAPTURED", "AGE");
    for (const auto& c : r.after.cameras) {
      out += fmt::format("{:<20} {:<20} {:>8} {:>26} {:>8.1f}s\n", c.camera, c.topic, c.seq,
                         format_wall_time(c.capture_us),
                         static_cast<double>(now - c.capture_us) / 1e6);
    }
  }
  if (!r.after.camera_health.empty()) {
    out += fmt::format("\n{:<20} {:<13} {:>9} {:>11} {:>9} {:>10}  {}\n", "CAMERA HEALTH", "STATE",
                       "FOR", "LAST FRAME", "FRAMES", "RECONNECTS", "WHY");
    for (const auto& c : r.after.camera_health) {
      const auto& h = c.health;
      const std::string state = c.silent ? "SILENT" : std::string(wire::camera_state_name(h.state));
      const std::string why = c.silent
                                  ? fmt::format("no report from {} for {:.0f} s (last: {})", h.host,
                                                static_cast<double>(now - h.updated_us) / 1e6,
                                                wire::camera_state_name(h.state))
                                  : h.reason;
      out += fmt::format(
          "{:<20} {:<13} {:>8.0f}s {:>11} {:>9} {:>10}  {}\n", h.camera, state,
          static_cast<double>(now - h.since_us) / 1e6,
          h.last_frame_us > 0
              ? fmt::format("{:.1f}s ago", static_cast<double>(now - h.last_frame_us) / 1e6)
              : "never",
          h.frames, h.reconnects, why);
    }
  }
  for (const std::string& w : r.after.warnings) out += fmt::format("\nWARNING {}\n", w);
  out += fmt::format("\nVERDICT {}{}\n", kafka::verdict_name(r.judged.overall),
                     r.after.warnings.empty() ? "" : " (incomplete: see the warnings)");
  return out;
}

nlohmann::json render_json(const Report& r) {
  nlohmann::json j;
  j["time_us"] = r.after.taken_us;
  j["interval_s"] = r.judged.seconds;
  j["verdict"] = kafka::verdict_name(r.judged.overall);
  j["under_replicated_partitions"] = r.judged.under_replicated;
  j["warnings"] = r.after.warnings;
  j["skipped_frames"] = records_with_suffix(r.after, wire::kSkippedSuffix);
  j["dead_lettered_frames"] = records_with_suffix(r.after, wire::kDeadLetterSuffix);
  for (const auto& p : r.after.partitions) {
    j["topics"][p.topic]["partitions"].push_back({{"partition", p.partition},
                                                  {"start", p.start},
                                                  {"end", p.end},
                                                  {"leader", p.leader},
                                                  {"replicas", p.replicas},
                                                  {"isr", p.isr},
                                                  {"under_replicated", p.under_replicated()}});
    j["topics"][p.topic]["records_per_s"] = topic_rate(r, p.topic);
  }
  j["camera_health"] = nlohmann::json::array();
  for (const auto& c : r.after.camera_health) {
    j["camera_health"].push_back(nlohmann::json::parse(wire::encode_camera_health(c.health)));
    j["camera_health"].back()["silent"] = c.silent;
  }
  for (const auto& [g, h] : r.judged.groups) {
    nlohmann::json jg{{"group", g->group},
                      {"state", g->state},
                      {"total_lag", g->total_lag},
                      {"lag_before", h.lag_before},
                      {"committed_per_s", h.committed_per_s},
                      {"verdict", kafka::verdict_name(h.verdict)},
                      {"reason", h.reason}};
    for (const auto& m : g->members) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& [t, p] : m.assignment) a.push_back({{"topic", t}, {"partition", p}});
      jg["members"].push_back({{"member_id", m.member_id},
                               {"client_id", m.client_id},
                               {"host", m.host},
                               {"assignment", a}});
    }
    for (const auto& p : g->partitions) {
      jg["partitions"].push_back({{"topic", p.topic},
                                  {"partition", p.partition},
                                  {"committed", p.committed},
                                  {"end", p.end},
                                  {"lag", p.lag},
                                  {"member", p.member}});
    }
    j["groups"].push_back(jg);
  }
  for (const auto& c : r.after.cameras) {
    j["cameras"].push_back({{"camera", c.camera},
                            {"topic", c.topic},
                            {"seq", c.seq},
                            {"capture_us", c.capture_us},
                            {"age_s", static_cast<double>(r.after.taken_us - c.capture_us) / 1e6}});
  }
  return j;
}

int run_status(const StatusOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("status", config.error());
  auto reader = kafka::StatusReader::create(*config);
  if (!reader) return report_error("status", reader.error());
  const std::vector<std::string> frame_topics = {std::string(wire::kRawFramesTopic),
                                                 std::string(wire::kProcessedTopic)};
  const std::string health_topic(wire::kCameraHealthTopic);
  std::stop_source stop;
  SignalBridge bridge(stop);
  auto before = (*reader)->snapshot(frame_topics, o.timeout_ms, health_topic);
  if (!before) return report_error("status", before.error());
  for (;;) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<int>(o.interval_s * 1000));
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stop.stop_requested()) return kExitOk;
    auto after = (*reader)->snapshot(frame_topics, o.timeout_ms, health_topic);
    if (!after) return report_error("status", after.error());
    const Report r{*before, *after, kafka::judge_groups(*before, *after)};
    if (o.watch && !o.json) std::printf("\033[H\033[2J");  // redraw in place
    const std::string text = o.json ? render_json(r).dump() + "\n" : render_table(r);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    if (!o.watch) {
      switch (r.judged.overall) {
        case kafka::Verdict::kOk:
          // Not all of it could be read: no grounds for a clean bill of health.
          return r.after.warnings.empty() ? kExitOk : kExitFailure;
        case kafka::Verdict::kUnderReplicated:
          return kExitUnderReplicated;
        case kafka::Verdict::kLagging:
          return kExitLagging;
        case kafka::Verdict::kStalled:
          return kExitStalled;
      }
      return kExitFailure;
    }
    before = std::move(after);
  }
}

}  // namespace

void add_status_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "One-screen view of a cluster: topics, partitions with their leader and in-sync "
      "replicas, consumer groups with lag, throughput, each camera's newest frame, and a "
      "verdict (OK, UNDER_REPLICATED, LAGGING, STALLED). Exit code 0 OK, 3 LAGGING, 4 "
      "STALLED, 5 UNDER_REPLICATED (groups keep up, but a partition has replicas out of sync), 1 "
      "when part of the cluster could not be read");
  add_kafka_options(cmd, o->kafka);
  cmd->add_option("--interval", o->interval_s,
                  "Seconds between the two samples that give throughput and the verdict")
      ->capture_default_str()
      ->check(CLI::Range(0.2, 3600.0));
  cmd->add_option("--timeout-ms", o->timeout_ms,
                  "How long each request to the cluster may take (a broker that is down costs up "
                  "to this until the cluster moves its leadership)")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000));
  cmd->add_flag("--json", o->json, "One JSON object per report instead of the table");
  cmd->add_flag("--watch", o->watch, "Refresh in place every --interval until Ctrl-C");
  cmd->callback([o, &action] { action = [o] { return run_status(*o); }; });
}

}  // namespace kv::app
