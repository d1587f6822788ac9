#include "vlog/time_range.h"

#include <set>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/units.h"
#include "kafka/partition_reader.h"

namespace kv::vlog {

Result<TimeRange> parse_time_range(const std::string& from, const std::string& to,
                                   int64_t from_default, int64_t to_default) {
  TimeRange r{from_default, to_default};
  if (!from.empty()) {
    auto t = parse_time_ms(from);
    if (!t) return t.error();
    r.from_ms = *t;
  }
  if (!to.empty()) {
    auto t = parse_time_ms(to);
    if (!t) return t.error();
    r.to_ms = *t;
  }
  if (r.to_ms < r.from_ms) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--to {} is before --from {}", to, from));
  }
  return r;
}

Result<RangeScan> read_time_range(const kafka::KafkaConfig& config, const std::string& topic,
                                  const std::string& camera, const TimeRange& range,
                                  const std::function<void(const kafka::Message&)>& fn,
                                  std::stop_token stop, int idle_timeout_ms) {
  if (range.to_ms < range.from_ms) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("the range ends ({}) before it starts ({})",
                                  format_time_ms(range.to_ms), format_time_ms(range.from_ms)));
  }
  auto reader = kafka::PartitionReader::create(
      config, {.committed = true, .report_ends = true, .name = "video log"});
  if (!reader) return reader.error();
  auto parts = (*reader)->partitions_of(topic, 10000);
  if (!parts) return parts.error();
  if (parts->empty())
    return make_error(ErrorCode::kNotFound, fmt::format("topic {} does not exist", topic));
  RangeScan scan;
  auto starts = (*reader)->starts_at_time(*parts, range.from_ms, 10000);
  if (!starts) return starts.error();
  // Partitions without a record at or after from_ms have nothing for the range.
  std::set<int32_t> open;
  for (const kafka::PartitionStart& s : *starts) open.insert(s.partition.partition);
  scan.partitions_read = static_cast<int>(open.size());
  if (!open.empty()) {
    if (Status s = (*reader)->read(*starts); !s) return s.error();
  }
  int64_t last_record_us = mono_now_us();
  while (!open.empty()) {
    if (stop.stop_requested()) break;
    auto msg = (*reader)->poll(200);
    if (!msg) return msg.error();
    for (const kafka::TopicPartition& tp : (*reader)->ends()) open.erase(tp.partition);
    if (!*msg) {
      if (mono_now_us() - last_record_us > int64_t{idle_timeout_ms} * 1000) {
        return make_error(ErrorCode::kTimeout,
                          fmt::format("no record from {} for {} ms", topic, idle_timeout_ms));
      }
      continue;
    }
    last_record_us = mono_now_us();
    if (open.count(msg->partition()) == 0) continue;  // finished: past the range
    ++scan.records_read;
    scan.bytes_read += static_cast<int64_t>(msg->size());
    const int64_t ts = msg->timestamp_ms();
    scan.oldest_ms = scan.oldest_ms < 0 ? ts : std::min(scan.oldest_ms, ts);
    if (ts > range.to_ms + kLateSlackMs) {
      open.erase(msg->partition());
      continue;
    }
    if (ts < range.from_ms || ts > range.to_ms) continue;
    if (!camera.empty() && msg->key() != camera) continue;
    ++scan.records_matched;
    fn(*msg);
  }
  return scan;
}

Error empty_range_error(const std::string& topic, const std::string& camera, const TimeRange& range,
                        const RangeScan& scan) {
  const std::string what =
      camera.empty() ? "no records" : fmt::format("no frames of camera '{}'", camera);
  const std::string where = fmt::format("in {} between {} and {}", topic,
                                        format_time_ms(range.from_ms), format_time_ms(range.to_ms));
  if (scan.partitions_read == 0) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{} {}: the topic holds nothing that recent", what, where));
  }
  if (scan.oldest_ms > range.to_ms) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("{} {}: the range is older than what the topic keeps (its oldest record is "
                    "from {}; raise retention.ms to keep video longer)",
                    what, where, format_time_ms(scan.oldest_ms)));
  }
  return make_error(ErrorCode::kNotFound, fmt::format("{} {} ({} record(s) of other cameras read)",
                                                      what, where, scan.records_read));
}

}  // namespace kv::vlog
