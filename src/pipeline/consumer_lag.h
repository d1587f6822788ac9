// kvision_consumer_lag: a consumer's lag per assigned partition, read at scrape time.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "kafka/consumer.h"
#include "metrics/registry.h"

namespace kv::pipeline {

// Sets kvision_consumer_lag{group,topic,partition} (high watermark minus position, from the
// consumer's cached watermarks: no request to the broker) for the consumer's current
// assignment, and drops the series of partitions no longer assigned. Thread-safe.
class ConsumerLagGauge {
 public:
  ConsumerLagGauge(metrics::Registry& registry, std::string group)
      : registry_(registry), group_(std::move(group)) {}
  void update(const kafka::Consumer& consumer);
  // Sum over the assigned partitions at the last update.
  int64_t total() const;

 private:
  metrics::Registry& registry_;
  const std::string group_;
  mutable std::mutex mu_;
  std::set<kafka::TopicPartition> shown_;
  int64_t total_ = 0;
};

}  // namespace kv::pipeline
