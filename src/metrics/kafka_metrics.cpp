#include "metrics/kafka_metrics.h"

#include <memory>

namespace kv::metrics {

void ConsumerLagGauge::update(rd_kafka_t* consumer) {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)>
      list(raw, &rd_kafka_topic_partition_list_destroy);
  rd_kafka_position(consumer, list.get());
  std::set<std::tuple<std::string, int32_t>> now;
  int64_t total = 0;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_get_watermark_offsets(consumer, tp.topic, tp.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    const int64_t position = tp.offset >= 0 ? tp.offset : low;
    const int64_t lag = std::max<int64_t>(0, high - position);
    total += lag;
    now.emplace(tp.topic, tp.partition);
    registry_
        .gauge(
            "kvision_consumer_lag", "Records between a consumer's position and the log end",
            {{"group", group_}, {"topic", tp.topic}, {"partition", std::to_string(tp.partition)}})
        .set(static_cast<double>(lag));
  }
  std::lock_guard lock(mu_);
  for (const auto& [topic, partition] : shown_) {
    if (now.count({topic, partition}) == 0) {
      registry_.remove_gauge(
          "kvision_consumer_lag",
          {{"group", group_}, {"topic", topic}, {"partition", std::to_string(partition)}});
    }
  }
  shown_ = std::move(now);
  total_ = total;
}

int64_t ConsumerLagGauge::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace kv::metrics
