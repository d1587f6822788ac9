// Lets records that finish out of order leave in the order they were taken, per partition.
// Detector workers finish frames in any order; Kafka promises a key's records in order, and so
// must the results: a finished record waits until every record taken before it from the same
// partition has left too.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "kafka/consumer.h"

namespace kv::pipeline {

// Thread-safety: every method may be called from any thread. Releases run on the thread that
// finishes the record at the head of its partition, under an internal lock: one at a time, in
// order. A release must not call back into this object.
//
// Memory: one slot per record entered and not yet released, so the caller's own limit on
// records in flight bounds it.
class OrderedRelease {
 public:
  // Runs the record's outputs; `waited_us` is how long it waited for its predecessors.
  using Release = std::function<void(int64_t waited_us)>;

  // Takes a slot for a record. Offsets must increase per partition; `epoch` tells work from
  // before a reset() (exactly-once: a transaction aborted) from work entered after it.
  void enter(const kafka::TopicPartition& tp, int64_t offset, uint64_t epoch = 0);

  // The record is done: runs `release` once every earlier record of its partition has been
  // released, with each of its successors that is done too, in order. Returns false and runs
  // nothing when the slot no longer exists (its partition was forgotten, or it belongs to an
  // older epoch).
  bool finish(const kafka::TopicPartition& tp, int64_t offset, uint64_t epoch, Release release);

  // Drops the slots of records not yet entered into work (handed back to Kafka), from
  // `offset` on. A record waiting behind them is released at once.
  void abandon(const kafka::TopicPartition& tp, int64_t offset);
  // Drops partitions (revoked), or everything.
  void forget(const std::vector<kafka::TopicPartition>& partitions);
  void reset();

  size_t slots() const;    // records entered and not yet released
  size_t waiting() const;  // of those, done and waiting for a predecessor

 private:
  struct Slot {
    uint64_t epoch = 0;
    Release release;  // empty until the record is done
    int64_t done_us = 0;
  };
  using Slots = std::map<int64_t, Slot>;
  // Runs the done slots at the head of the partition (lock held).
  void release_head(Slots& slots);

  mutable std::mutex mu_;
  std::map<kafka::TopicPartition, Slots> parts_;
  size_t waiting_ = 0;
};

}  // namespace kv::pipeline
