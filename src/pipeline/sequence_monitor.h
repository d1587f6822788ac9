// Per-camera sequence checks for consumers of frames and results: frames whose sequence
// numbers never arrive (a gap) or arrive again (a duplicate). Each ingest session numbers its
// frames from 0, so a camera whose session changes (ingest restarted) starts over and is not
// reported as a gap.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "kafka/consumer.h"

namespace kv::pipeline {

struct SequenceCounts {
  int64_t frames = 0;
  int64_t missing = 0;     // sequence numbers skipped and not (yet) seen late
  int64_t duplicates = 0;  // frames seen before, or from an older session
  int64_t skipped = 0;     // numbers skipped that the producer accounted for (skipped_before)
  int64_t sessions = 0;    // sessions seen (1 for a camera that never restarted)
};

// Thread-safety: none; one consumer thread uses it. Order is judged per partition, where
// Kafka keeps a camera's frames in order; forget() a partition when it is revoked, since the
// next owner's progress is not seen here.
class SequenceMonitor {
 public:
  // kSkipped: a gap the producer accounted for (frames it skipped or dead-lettered).
  enum class Event { kFirst, kInOrder, kNewSession, kGap, kSkipped, kDuplicate, kLate };
  struct Observation {
    Event event = Event::kInOrder;
    int64_t frames = 0;  // kGap: how many are missing
    int64_t expected = 0;
  };

  // `accounted`: how many frames just before this one its producer says it left out on
  // purpose (a detection record's skipped_before); a gap no larger is not missing.
  Observation observe(const kafka::TopicPartition& tp, const std::string& camera,
                      int64_t session_us, int64_t seq, int64_t accounted = 0);
  void forget(const std::vector<kafka::TopicPartition>& partitions);
  void reset() { streams_.clear(); }

  // Totals per camera since construction (forgetting a partition keeps them).
  const std::map<std::string, SequenceCounts>& counts() const { return counts_; }
  SequenceCounts total() const;

 private:
  static constexpr size_t kMaxRemembered = 4096;  // missing numbers kept to recognise late ones
  struct Stream {
    int64_t session_us = 0;
    int64_t next = 0;
    std::set<int64_t> missing;
  };
  std::map<std::tuple<kafka::TopicPartition, std::string>, Stream> streams_;
  std::map<std::string, SequenceCounts> counts_;
  std::map<std::string, std::set<int64_t>> sessions_;  // by camera
};

// One log line for an observation worth reporting (gaps, duplicates, new sessions); empty
// for frames in order.
std::string describe(const SequenceMonitor::Observation& o, const std::string& where,
                     const std::string& camera, int64_t seq);

}  // namespace kv::pipeline
