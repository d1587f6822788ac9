#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include <librdkafka/rdkafka.h>

#include "common/result.h"
#include "kafka/config.h"
#include "wire/detection_record.h"

namespace kv::pipeline {

struct SinkParams {
  kafka::KafkaConfig kafka;
  std::string topic = "detections";  // or processed_images (detections read from its header)
  std::string group = "kvision-sink";
  std::string output;       // file to append to; empty: stdout; "-" also stdout
  bool write_lines = true;  // false: only call on_record (used by `kvision run`)
  int64_t max_records = 0;  // stop after this many; 0: run until stopped
  // Called for every valid record with the wall time it was received.
  std::function<void(const wire::DetectionRecord&, int64_t receive_us)> on_record;
  // Called (on the sink's thread) each time the group assigns it partitions.
  std::function<void()> on_assigned;
};

struct SinkStats {
  int64_t records = 0;
  int64_t bad_records = 0;
  int64_t sequence_missing = 0;     // frames missing from a camera's sequence
  int64_t sequence_duplicates = 0;  // frames seen twice
  int64_t sequence_skipped = 0;     // frames the detector skipped (stale) or dead-lettered
};

// The detection record's JSON of a result: the value on `detections`, the header on
// `processed_images`.
Result<std::string> detection_json(const rd_kafka_message_t* msg);
// The detection record of a result, decoded (either topic).
Result<wire::DetectionRecord> detection_record(const rd_kafka_message_t* msg);

// Consumes results and writes one JSON line per result. Offsets are committed only after
// the line has been written and flushed.
Result<SinkStats> run_sink(const SinkParams& params, std::stop_token stop);

}  // namespace kv::pipeline
