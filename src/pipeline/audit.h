// `kvision audit`: which input frames came out, how often, and which were dead-lettered or
// skipped. AuditTally is the bookkeeping; audit_topics() reads the topics into it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"

namespace kv::pipeline {

// A frame's identity: its camera, the ingest session (a restart begins a new one) and its
// sequence number in that session.
struct FrameKey {
  std::string camera;
  int64_t session_us = 0;
  int64_t seq = 0;
  auto operator<=>(const FrameKey&) const = default;
};

struct CameraAudit {
  std::string camera;
  int64_t in = 0;          // distinct input frames
  int64_t out = 0;         // output records
  int64_t missing = 0;     // input frames with no output, no dead letter and no skip record
  int64_t duplicates = 0;  // output records beyond the first for a frame
  int64_t dead_lettered = 0;
  int64_t skipped = 0;  // input frames a detector skipped as stale (and never processed)
};

class AuditTally {
 public:
  // An input record at (topic, partition, offset); no key when its headers are unreadable.
  void add_input(const std::string& topic, int32_t partition, int64_t offset,
                 const std::optional<FrameKey>& key);
  void add_output(const FrameKey& key);
  // A dead letter naming the input record it came from.
  void add_dead_letter(const std::string& topic, int32_t partition, int64_t offset);
  // A skip record naming the input record it skipped.
  void add_skipped(const std::string& topic, int32_t partition, int64_t offset);

  // Per camera, sorted by name; inputs without readable headers are under camera "?".
  std::vector<CameraAudit> report() const;
  // Outputs for frames that never were input (wrong topic pair, or input already deleted).
  int64_t unmatched_outputs() const;

 private:
  using Position = std::tuple<std::string, int32_t, int64_t>;
  std::map<Position, std::optional<FrameKey>> inputs_;
  std::map<FrameKey, int64_t> outputs_;
  std::set<Position> dead_letters_;
  std::set<Position> skipped_;
};

struct AuditTopics {
  std::string input;         // raw_video_frames
  std::string output;        // processed_images or detections
  std::string dead_letters;  // <input>.dlq
  std::string skipped;       // <input>.skipped
};

struct AuditResult {
  AuditTally tally;
  int64_t unreadable_outputs = 0;  // neither frame headers nor a detection record
};

// Reads each topic whole (from the beginning to its end when reached, outside any group; the
// dead-letter and skip topics may be missing). committed: read_committed;
// idle_timeout_s: give up after that long without data.
Result<AuditResult> audit_topics(const kafka::KafkaConfig& config, const AuditTopics& topics,
                                 bool committed, int idle_timeout_s);

}  // namespace kv::pipeline
