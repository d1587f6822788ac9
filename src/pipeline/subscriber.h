// The one consume loop of the stages that subscribe to results (sink, store, alert, web):
// a stage handles records, the loop owns the client and the offsets.
//
// Offset policy: a record's offset is stored (and so committed) only after the stage made it
// durable (flush() succeeded), and before a rebalance takes partitions away the stage flushes
// and their offsets are stored, so the next owner starts right after them. A record the stage
// calls bad (a kDecode error) is logged, counted and passed over like a handled one.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/consumer.h"
#include "kafka/record.h"

namespace kv::pipeline {

// Thread-safety: every call comes from the loop's thread.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Handles one record. A kDecode error marks the record bad: the loop logs it, counts it in
  // kvision_errors_total{stage,kind="record"} and goes on. Any other error stops the loop,
  // and the offsets of records not yet flushed are not stored.
  virtual Status take(const kafka::Message& record) = 0;
  // Whether what was taken should be made durable now (at `now_us`, monotonic). Called after
  // each poll while anything taken is not flushed. Default: after every record.
  virtual bool due(int64_t /*now_us*/) const { return true; }
  // Makes everything taken so far durable (a database commit, alerts acknowledged by the
  // brokers). An error stops the loop.
  virtual Status flush() { return ok_status(); }
  // Rebalances: after partitions are assigned; before they are revoked, after the flush.
  virtual void on_assigned(const std::vector<kafka::TopicPartition>& /*partitions*/) {}
  virtual void on_revoking(const std::vector<kafka::TopicPartition>& /*partitions*/) {}
};

struct SubscriberOptions {
  std::string stage;        // names the stage in logs and metrics
  int poll_ms = 100;        // longest wait for a record (bounds how late a due flush runs)
  int64_t max_records = 0;  // stop after this many good records; 0: until stopped
};

struct SubscriberStats {
  int64_t records = 0;       // handled by the stage
  int64_t bad_records = 0;   // passed over (kDecode)
  int64_t store_failed = 0;  // offsets the client refused to store
};

// Runs `stage` on `source` until `stop` is requested, max_records are handled, the source
// fails or the stage returns an error; flushes what was taken, stores its offsets and closes
// the source before it returns. An offset the client refuses to store (the partition was
// taken away meanwhile) is logged as an error and counted in
// kvision_offset_store_failures_total{stage}; the loop goes on, as the record is then read
// again by the partition's next owner (at-least-once).
Result<SubscriberStats> run_subscriber(kafka::RecordSource& source, Subscriber& stage,
                                       const SubscriberOptions& options, std::stop_token stop);

}  // namespace kv::pipeline
