// kvision sink: results as JSON lines (a file or stdout), on the subscriber loop.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "common/result.h"
#include "kafka/config.h"
#include "metrics/stage_metrics.h"
#include "pipeline/sequence_monitor.h"
#include "pipeline/subscriber.h"
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

// Writes each result as one JSON line, as it came, flushed before its offset is stored;
// watches each camera's sequence for gaps and duplicates.
class SinkStage final : public Subscriber {
 public:
  // `out` may be null (no lines written); `out_name` names it in errors.
  SinkStage(std::FILE* out, std::string out_name, const SinkParams& params);

  Status take(const kafka::Message& record) override;
  void on_assigned(const std::vector<kafka::TopicPartition>& partitions) override;
  void on_revoking(const std::vector<kafka::TopicPartition>& partitions) override;

  SequenceCounts sequence_totals() const { return sequences_.total(); }

 private:
  std::FILE* out_;
  std::string out_name_;
  const SinkParams& params_;
  SequenceMonitor sequences_;
  metrics::FrameCounter frames_{"sink"};
  metrics::HistogramProbe latency_;
};

// Consumes results with a SinkStage until stopped (or max_records).
Result<SinkStats> run_sink(const SinkParams& params, std::stop_token stop);

}  // namespace kv::pipeline
