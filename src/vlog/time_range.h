// Reading one camera's records of a topic by time: Kafka's timestamp lookup (ListOffsets by
// time) finds where the range starts in every partition, and each partition is read until its
// records are past the range.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/record.h"

namespace kv::vlog {

struct TimeRange {
  int64_t from_ms = 0;  // record timestamps (frames: their capture time), inclusive
  int64_t to_ms = 0;    // inclusive
};

// What a scan read from the brokers.
struct RangeScan {
  int64_t records_read = 0;  // every camera's, in the partitions read
  int64_t bytes_read = 0;
  int64_t records_matched = 0;
  int partitions_read = 0;
  int64_t oldest_ms = -1;  // the oldest timestamp read (-1: none)
};

// --from/--to as given (parse_time_ms forms); an empty one is `from_default`/`to_default`.
// Errors: a time that does not parse, or an end before the start.
Result<TimeRange> parse_time_range(const std::string& from, const std::string& to,
                                   int64_t from_default = 0, int64_t to_default = 0);

// Records of another camera sharing a partition may be a little out of time order (each
// camera's clock and queue); a partition is finished once a record is this much past to_ms.
inline constexpr int64_t kLateSlackMs = 5000;

// Calls `fn` for every record of `topic` whose key is `camera` (every key if empty) and whose
// timestamp lies in `range`, in offset order per partition (so in capture order per camera).
// Reads committed records only. Errors: the topic does not exist, the brokers cannot be
// reached, or nothing arrives for idle_timeout_ms. `stop` ends the scan early (not an error).
Result<RangeScan> read_time_range(const kafka::KafkaConfig& config, const std::string& topic,
                                  const std::string& camera, const TimeRange& range,
                                  const std::function<void(const kafka::Message&)>& fn,
                                  std::stop_token stop = {}, int idle_timeout_ms = 30000);

// The error for a range with no frames, saying why: before the oldest record still kept
// (retention), after the newest, or a camera with no frames in it.
Error empty_range_error(const std::string& topic, const std::string& camera, const TimeRange& range,
                        const RangeScan& scan);

}  // namespace kv::vlog
