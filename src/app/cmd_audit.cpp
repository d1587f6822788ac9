// kvision audit: per camera, which frames went in and came out, how often, and which were
// dead-lettered. Reads the topics from the beginning up to their current end; never commits.

#include <cstdio>
#include <memory>
#include <string>

#include "app/cli.h"
#include "pipeline/audit.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct AuditOptions {
  KafkaOptions kafka;
  std::string from_topic = "raw_video_frames";
  std::string to_topic = "processed_images";
  std::string dlq_topic;  // default: <from>.dlq
  bool committed = false;
  int timeout_s = 60;
};

int run_audit(const AuditOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("audit", config.error());
  const pipeline::AuditTopics topics{o.from_topic, o.to_topic,
                                     o.dlq_topic.empty() ? o.from_topic + ".dlq" : o.dlq_topic,
                                     o.from_topic + std::string(wire::kSkippedSuffix)};
  auto audit = pipeline::audit_topics(*config, topics, o.committed, o.timeout_s);
  if (!audit) return report_error("audit", audit.error());
  const pipeline::AuditTally& tally = audit->tally;
  const int64_t unreadable_outputs = audit->unreadable_outputs;

  pipeline::CameraAudit total;
  std::printf("%-24s %8s %8s %8s %10s %6s %8s\n", "camera", "in", "out", "missing", "duplicates",
              "dlq", "skipped");
  for (const pipeline::CameraAudit& c : tally.report()) {
    std::printf("%-24s %8lld %8lld %8lld %10lld %6lld %8lld\n", c.camera.c_str(),
                static_cast<long long>(c.in), static_cast<long long>(c.out),
                static_cast<long long>(c.missing), static_cast<long long>(c.duplicates),
                static_cast<long long>(c.dead_lettered), static_cast<long long>(c.skipped));
    total.in += c.in;
    total.out += c.out;
    total.missing += c.missing;
    total.duplicates += c.duplicates;
    total.dead_lettered += c.dead_lettered;
    total.skipped += c.skipped;
  }
  if (const int64_t stray = tally.unmatched_outputs(); stray > 0)
    std::printf("note: %lld output records match no input frame\n", static_cast<long long>(stray));
  if (unreadable_outputs > 0)
    std::printf("note: %lld output records have neither frame headers nor a detection record\n",
                static_cast<long long>(unreadable_outputs));
  std::printf("TOTAL in=%lld out=%lld missing=%lld duplicates=%lld dlq=%lld skipped=%lld\n",
              static_cast<long long>(total.in), static_cast<long long>(total.out),
              static_cast<long long>(total.missing), static_cast<long long>(total.duplicates),
              static_cast<long long>(total.dead_lettered), static_cast<long long>(total.skipped));
  return total.missing == 0 && total.duplicates == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void add_audit_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<AuditOptions>();
  CLI::App* cmd = app.add_subcommand(
      "audit",
      "Count frames in and out per camera: missing, duplicated, dead-lettered and skipped as "
      "stale (exit 0 only with none missing or duplicated)");
  add_kafka_options(cmd, o->kafka);
  cmd->add_option("--from-topic", o->from_topic, "Input topic")->capture_default_str();
  cmd->add_option("--to-topic", o->to_topic, "Output topic (processed_images or detections)")
      ->capture_default_str();
  cmd->add_option("--dlq-topic", o->dlq_topic, "Dead-letter topic (default: <from-topic>.dlq)");
  cmd->add_flag("--committed", o->committed,
                "Read only committed records (isolation.level=read_committed)");
  cmd->add_option("--timeout", o->timeout_s, "Give up after this many seconds without data")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->callback([o, &action] { action = [o] { return run_audit(*o); }; });
}

}  // namespace kv::app
