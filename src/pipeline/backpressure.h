#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "kafka/lag_probe.h"

namespace kv::pipeline {

// Keeps a producer from running further ahead of a consumer group than `max_lag` records on
// its partition: optional flow control (`kvision ingest --max-lag`) for brokers that cannot
// hold a backlog, such as librdkafka's mock cluster with its 5 MiB per partition (a durable
// broker holds it, bounded by retention). Between broker round trips the lag is
// estimated from what was published since the last measurement, so a fast producer cannot
// overshoot the limit between two checks.
// Thread-safety: one thread.
class Backpressure {
 public:
  Backpressure(std::unique_ptr<kafka::LagProbe> probe, std::string group, int64_t max_lag);

  // Blocks until one more record may be published. `published` counts records handed to the
  // producer so far; `unacked()` tells how many of them the broker has not acknowledged yet.
  // Returns the number of times it had to wait (0 or 1).
  int admit(int64_t published, int32_t partition, const std::function<int64_t()>& unacked,
            std::stop_token stop, const std::function<void()>& while_waiting);

 private:
  std::unique_ptr<kafka::LagProbe> probe_;
  std::string group_;
  int64_t max_lag_;
  int64_t lag_at_check_ = 0;
  int64_t published_at_check_ = 0;
  int64_t last_check_us_ = 0;
  int64_t last_warn_us_ = 0;
};

}  // namespace kv::pipeline
