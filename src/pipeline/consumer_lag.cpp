#include "pipeline/consumer_lag.h"

namespace kv::pipeline {

void ConsumerLagGauge::update(const kafka::Consumer& consumer) {
  std::set<kafka::TopicPartition> now;
  int64_t total = 0;
  for (const kafka::PartitionLag& p : consumer.lag()) {
    const kafka::TopicPartition& tp = p.partition;
    total += p.records;
    now.insert(tp);
    registry_
        .gauge(
            "kvision_consumer_lag", "Records between a consumer's position and the log end",
            {{"group", group_}, {"topic", tp.topic}, {"partition", std::to_string(tp.partition)}})
        .set(static_cast<double>(p.records));
  }
  std::lock_guard lock(mu_);
  for (const kafka::TopicPartition& tp : shown_) {
    if (now.count(tp) == 0) {
      registry_.remove_gauge(
          "kvision_consumer_lag",
          {{"group", group_}, {"topic", tp.topic}, {"partition", std::to_string(tp.partition)}});
    }
  }
  shown_ = std::move(now);
  total_ = total;
}

int64_t ConsumerLagGauge::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace kv::pipeline
