// kvision audit: per camera, which frames went in and came out, how often, and which were
// dead-lettered. Reads the topics from the beginning up to their current end; never commits.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>

#include "app/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "kafka/handles.h"
#include "kafka/record.h"
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

// Calls `fn` for every record of `topic` from the beginning to the end it has when each
// partition is first reached. A missing topic is an error unless `may_be_missing`.
Status read_topic(const kafka::KafkaConfig& config, bool committed, const std::string& topic,
                  bool may_be_missing, int timeout_s,
                  const std::function<void(const rd_kafka_message_t*)>& fn) {
  auto conf = kafka::make_conf(
      config, {{"group.id", fmt::format("kvision-audit-{}", ::getpid())},
               {"enable.auto.commit", "false"},
               {"enable.partition.eof", "true"},
               {"isolation.level", committed ? "read_committed" : "read_uncommitted"},
               {"fetch.wait.max.ms", "100"}});
  if (!conf) return conf.error();
  auto rk = kafka::new_handle(RD_KAFKA_CONSUMER, *conf, "audit consumer");
  if (!rk) return rk.error();
  rd_kafka_poll_set_consumer(rk->get());
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk->get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk->get(), 0, t, &md, 10000);
  rd_kafka_topic_destroy(t);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka, fmt::format("cannot read the metadata of {}: {}", topic,
                                                     rd_kafka_err2str(err)));
  }
  kafka::MetadataPtr meta(md);
  int partitions = 0;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    partitions = md->topics[0].partition_cnt;
  if (partitions == 0) {
    if (may_be_missing) return ok_status();
    return make_error(ErrorCode::kNotFound, fmt::format("topic {} does not exist", topic));
  }
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_resp_err_t e = rd_kafka_assign(rk->get(), list.get()); e != 0)
    return make_error(ErrorCode::kKafka, fmt::format("assign {}: {}", topic, rd_kafka_err2str(e)));
  std::set<int32_t> done;
  Stopwatch idle;
  while (static_cast<int>(done.size()) < partitions) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk->get(), 200));
    if (!m) {
      if (idle.elapsed_ms() > timeout_s * 1000.0) {
        return make_error(ErrorCode::kKafka,
                          fmt::format("reading {}: nothing for {} s, {} of {} partitions read",
                                      topic, timeout_s, done.size(), partitions));
      }
      continue;
    }
    idle = Stopwatch();
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      done.insert(m->partition);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(ErrorCode::kKafka,
                        fmt::format("reading {}: {}", topic, rd_kafka_message_errstr(m.get())));
    }
    fn(m.get());
  }
  rd_kafka_consumer_close(rk->get());
  return ok_status();
}

pipeline::FrameKey key_of(const wire::FrameMeta& m) {
  return pipeline::FrameKey{m.camera, m.session_us, m.seq};
}

int run_audit(const AuditOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("audit", config.error());
  const std::string dlq = o.dlq_topic.empty() ? o.from_topic + ".dlq" : o.dlq_topic;
  pipeline::AuditTally tally;
  int64_t unreadable_outputs = 0;

  Status s = read_topic(*config, o.committed, o.from_topic, false, o.timeout_s,
                        [&](const rd_kafka_message_t* m) {
                          auto meta = wire::decode_frame_headers(kafka::message_headers(m));
                          tally.add_input(o.from_topic, m->partition, m->offset,
                                          meta ? std::optional(key_of(*meta)) : std::nullopt);
                        });
  if (!s) return report_error("audit", s.error());
  s = read_topic(*config, o.committed, o.to_topic, false, o.timeout_s,
                 [&](const rd_kafka_message_t* m) {
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
    return read_topic(*config, o.committed, topic, true, o.timeout_s,
                      [&](const rd_kafka_message_t* m) {
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
