// kvision audit: per camera, which frames went in and came out, how often, and which were
// dead-lettered. Reads the topics from the beginning up to their current end; never commits.

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "app/cli.h"
#include "kafka/handles.h"
#include "kafka/record.h"
#include "kafka/topic_reader.h"
#include "pipeline/audit.h"
#include "pipeline/dead_letter.h"
#include "wire/detection_record.h"
#include "wire/frame_headers.h"
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

pipeline::FrameKey key_of(const wire::FrameMeta& m) {
  return pipeline::FrameKey{m.camera, m.session_us, m.seq};
}

int run_audit(const AuditOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("audit", config.error());
  const std::string dlq = o.dlq_topic.empty() ? o.from_topic + ".dlq" : o.dlq_topic;
  pipeline::AuditTally tally;
  int64_t unreadable_outputs = 0;

  auto read_topic = [&](const std::string& topic, bool may_be_missing,
                        const std::function<void(const rd_kafka_message_t*)>& fn) {
    return kafka::read_to_end(*config, topic, {o.committed, may_be_missing, o.timeout_s}, fn);
  };
  Status s = read_topic(o.from_topic, false, [&](const rd_kafka_message_t* m) {
    auto meta = wire::decode_frame_headers(kafka::message_headers(m));
    tally.add_input(o.from_topic, m->partition, m->offset,
                    meta ? std::optional(key_of(*meta)) : std::nullopt);
  });
  if (!s) return report_error("audit", s.error());
  s = read_topic(o.to_topic, false, [&](const rd_kafka_message_t* m) {
    // processed_images carries the frame headers; detections a JSON record.
    auto meta = wire::decode_frame_headers(kafka::message_headers(m));
    if (meta) return tally.add_output(key_of(*meta));
    const auto v = kafka::message_value(m);
    auto rec = wire::decode_detection_record(
        std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
    if (rec) return tally.add_output(key_of(rec->frame));
    ++unreadable_outputs;
  });
  if (!s) return report_error("audit", s.error());
  // Dead letters and skip records name the input record they stand for.
  auto read_markers = [&](const std::string& topic, const char* topic_hdr, const char* part_hdr,
                          const char* offset_hdr, auto add) {
    return read_topic(topic, true, [&](const rd_kafka_message_t* m) {
      const wire::Headers h = kafka::message_headers(m);
      const std::string* from = wire::find_header(h, topic_hdr);
      const std::string* partition = wire::find_header(h, part_hdr);
      const std::string* offset = wire::find_header(h, offset_hdr);
      if (!from || !partition || !offset || *from != o.from_topic) return;
      try {
        add(*from, std::stoi(*partition), std::stoll(*offset));
      } catch (const std::exception&) {
      }
    });
  };
  s = read_markers(
      dlq, pipeline::kHdrDlqTopic, pipeline::kHdrDlqPartition, pipeline::kHdrDlqOffset,
      [&](const std::string& t, int32_t p, int64_t off) { tally.add_dead_letter(t, p, off); });
  if (!s) return report_error("audit", s.error());
  s = read_markers(
      o.from_topic + std::string(wire::kSkippedSuffix), pipeline::kHdrSkipTopic,
      pipeline::kHdrSkipPartition, pipeline::kHdrSkipOffset,
      [&](const std::string& t, int32_t p, int64_t off) { tally.add_skipped(t, p, off); });
  if (!s) return report_error("audit", s.error());

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
