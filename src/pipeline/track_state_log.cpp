#include "pipeline/track_state_log.h"

#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/clock.h"
#include "common/log.h"
#include "kafka/partition_reader.h"

namespace kv::pipeline {

TrackStateLog::TrackStateLog(kafka::KafkaConfig kafka, std::string topic,
                             kafka::TopicSettings topics, int64_t window_ms)
    : kafka_(std::move(kafka)),
      topic_(std::move(topic)),
      topics_(std::move(topics)),
      window_ms_(window_ms) {}

Status TrackStateLog::prepare(kafka::Producer& producer) {
  // Only the newest state per camera matters, and none older than the restore window: the
  // topic is compacted by camera, and nothing older than an hour is kept.
  if (Status s = kafka::ensure_topics(kafka_, {topic_}, topics_, 30000,
                                      {{"cleanup.policy", "compact,delete"},
                                       {"retention.ms", "3600000"},
                                       {"segment.bytes", "16777216"}});
      !s)
    return s;
  auto partitions = producer.topic_partitions(topic_, 30000);
  if (!partitions) return partitions.error();
  partitions_ = *partitions;
  return ok_status();
}

int64_t TrackStateLog::restore(const std::vector<kafka::TopicPartition>& inputs,
                               CameraTrackers& trackers) const {
  if (inputs.empty()) return 0;
  std::set<int32_t> numbers;
  for (const kafka::TopicPartition& tp : inputs) numbers.insert(tp.partition);
  std::vector<int32_t> wanted;
  for (int32_t p : numbers) wanted.push_back(p % partitions_);
  const int64_t since_ms = wall_now_us() / 1000 - window_ms_;
  std::map<std::string, std::vector<uint8_t>> newest;  // by camera
  int64_t records = 0;
  const Stopwatch clock;
  const Status s = kafka::read_to_end(
      kafka_, topic_, wanted, {.committed = true, .may_be_missing = true},
      [since_ms](kafka::PartitionReader& reader, const std::vector<kafka::TopicPartition>& ps) {
        return reader.starts_at_time(ps, since_ms, 10000);
      },
      [&](const kafka::Message& m) {
        ++records;
        auto state = decode_track_state(m.value());
        if (!state) {
          log_warn("detect: {}: {}", m.where(), state.error().message);
          return;
        }
        if (numbers.count(state->partition) == 0) return;  // another partition's camera
        newest[state->camera].assign(m.value().begin(), m.value().end());
      });
  if (!s) {
    log_error(
        "detect: cannot read tracker state from {}: {}; the cameras of partition(s) {} "
        "start new track IDs",
        topic_, s.error().message, fmt::join(numbers, ","));
    return 0;
  }
  int64_t restored = 0;
  for (const auto& [camera, value] : newest) {
    if (trackers.restore(value).ok()) ++restored;
  }
  if (!newest.empty() || records > 0) {
    log_info("detect: tracker state of {} camera(s) restored from {} record(s) in {:.0f} ms",
             newest.size(), records, clock.elapsed_ms());
  }
  return restored;
}

kafka::OutRecord TrackStateLog::record(const std::string& camera, int32_t input_partition,
                                       std::string_view value) const {
  kafka::OutRecord r;
  r.topic = topic_;
  r.key = camera;
  r.value = {reinterpret_cast<const uint8_t*>(value.data()), value.size()};
  r.partition = input_partition % partitions_;
  return r;
}

}  // namespace kv::pipeline
