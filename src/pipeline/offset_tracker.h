#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "kafka/consumer.h"

namespace kv::pipeline {

// Tracks records taken from Kafka until their results are acknowledged, and tells which
// offset may be committed: the lowest offset still in flight, so nothing unfinished is ever
// committed even when workers complete out of order.
// Thread-safety: all methods may be called from any thread.
class OffsetTracker {
 public:
  // Returns false if the offset is already in flight (a redelivery of work still running).
  bool begin(const kafka::TopicPartition& tp, int64_t offset);

  // Marks a record done. Returns the offset to commit for its partition if it advanced.
  std::optional<int64_t> complete(const kafka::TopicPartition& tp, int64_t offset);

  size_t in_flight() const;

  // The offset to commit for each partition seen (the next one to read), finished or not.
  std::map<kafka::TopicPartition, int64_t> committable() const;

  // Forgets partitions (revoked), or everything (work to be redone after an aborted
  // transaction). Records of forgotten partitions must not be completed afterwards.
  void forget(const std::vector<kafka::TopicPartition>& partitions);
  // Gives up records from `offset` on (taken but never started: the newest of the partition),
  // so nothing from there on is committed; they will be read again.
  void abandon(const kafka::TopicPartition& tp, int64_t offset);
  void reset();

  // Waits until nothing is in flight; false on timeout.
  bool wait_idle(int timeout_ms) const;

 private:
  struct PartitionState {
    std::set<int64_t> pending;
    int64_t max_begun = -1;
    int64_t committable = -1;
  };
  mutable std::mutex mu_;
  mutable std::condition_variable idle_cv_;
  std::map<kafka::TopicPartition, PartitionState> parts_;
  size_t in_flight_ = 0;
};

}  // namespace kv::pipeline
