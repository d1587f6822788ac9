// Metrics read from a librdkafka handle at scrape time: a consumer's lag per assigned
// partition and a producer's queue.
#pragma once

#include <librdkafka/rdkafka.h>

#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include "metrics/registry.h"

namespace kv::metrics {

// Sets kvision_consumer_lag{group,topic,partition} (high watermark minus position, from the
// consumer's cached watermarks: no request to the broker) for the handle's current assignment,
// and drops the series of partitions no longer assigned. Thread-safe.
class ConsumerLagGauge {
 public:
  ConsumerLagGauge(Registry& registry, std::string group)
      : registry_(registry), group_(std::move(group)) {}
  void update(rd_kafka_t* consumer);
  // Sum over the assigned partitions at the last update.
  int64_t total() const;

 private:
  Registry& registry_;
  const std::string group_;
  mutable std::mutex mu_;
  std::set<std::tuple<std::string, int32_t>> shown_;
  int64_t total_ = 0;
};

}  // namespace kv::metrics
