#include "kafka/lag_probe.h"
#include "kafka/client.h"

#include <algorithm>

#include <fmt/format.h>

namespace kv::kafka {

Result<std::unique_ptr<LagProbe>> LagProbe::create(const KafkaConfig& config,
                                                   const std::string& group,
                                                   const std::string& topic) {
  auto conf = make_conf(config, {{"group.id", group}, {"enable.auto.commit", "false"}});
  if (!conf) return conf.error();
  auto rk = new_handle(RD_KAFKA_CONSUMER, *conf, "lag probe");
  if (!rk) return rk.error();
  std::unique_ptr<LagProbe> p(new LagProbe());
  p->rk_ = std::move(*rk);
  p->topic_ = topic;
  return p;
}

Result<int32_t> LagProbe::partition_count(int timeout_ms) {
  if (partitions_ > 0) return partitions_;
  auto ids = topic_partitions(rk_.get(), topic_, timeout_ms);
  if (!ids) return ids.error();
  if (ids->empty())
    return make_error(ErrorCode::kKafka, fmt::format("topic {} is not available", topic_));
  partitions_ = static_cast<int32_t>(ids->size());
  return partitions_;
}

Result<int64_t> LagProbe::lag(int32_t partition, int timeout_ms) {
  auto count = partition_count(timeout_ms);
  if (!count) return count.error();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(*count));
  for (int32_t p = 0; p < *count; ++p) {
    if (partition < 0 || p == partition)
      rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p);
  }
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), list.get(), timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka,
                      fmt::format("committed offsets: {}", rd_kafka_err2str(err)));
  }
  int64_t worst = 0;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    int64_t low = 0;
    int64_t high = 0;
    err = rd_kafka_query_watermark_offsets(rk_.get(), topic_.c_str(), tp.partition, &low, &high,
                                           timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(ErrorCode::kKafka, fmt::format("watermarks of {}[{}]: {}", topic_,
                                                       tp.partition, rd_kafka_err2str(err)));
    }
    const int64_t done = tp.offset >= 0 ? std::max(tp.offset, low) : low;
    worst = std::max(worst, high - done);
  }
  return worst;
}

}  // namespace kv::kafka
