#include "kafka/topic_reader.h"

#include <unistd.h>

#include <set>

#include <fmt/format.h>

#include "common/clock.h"

namespace kv::kafka {

Status read_to_end(const KafkaConfig& config, const std::string& topic,
                   const ReadToEndOptions& options,
                   const std::function<void(const rd_kafka_message_t*)>& fn) {
  const bool committed = options.committed;
  const bool may_be_missing = options.may_be_missing;
  const int timeout_s = options.idle_timeout_s;
  auto conf =
      make_conf(config, {{"group.id", fmt::format("kvision-reader-{}", ::getpid())},
                         {"enable.auto.commit", "false"},
                         {"enable.partition.eof", "true"},
                         {"isolation.level", committed ? "read_committed" : "read_uncommitted"},
                         {"fetch.wait.max.ms", "100"}});
  if (!conf) return conf.error();
  auto rk = new_handle(RD_KAFKA_CONSUMER, *conf, "topic reader");
  if (!rk) return rk.error();
  rd_kafka_poll_set_consumer(rk->get());
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk->get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk->get(), 0, t, &md, 10000);
  rd_kafka_topic_destroy(t);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka, fmt::format("cannot read the metadata of {}: {}", topic,
                                                     rd_kafka_err2str(err)));
  }
  MetadataPtr meta(md);
  int partitions = 0;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    partitions = md->topics[0].partition_cnt;
  if (partitions == 0) {
    if (may_be_missing) return ok_status();
    return make_error(ErrorCode::kNotFound, fmt::format("topic {} does not exist", topic));
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_resp_err_t e = rd_kafka_assign(rk->get(), list.get()); e != 0)
    return make_error(ErrorCode::kKafka, fmt::format("assign {}: {}", topic, rd_kafka_err2str(e)));
  std::set<int32_t> done;
  Stopwatch idle;
  while (static_cast<int>(done.size()) < partitions) {
    MessagePtr m(rd_kafka_consumer_poll(rk->get(), 200));
    if (!m) {
      if (idle.elapsed_ms() > timeout_s * 1000.0) {
        return make_error(ErrorCode::kKafka,
                          fmt::format("reading {}: nothing for {} s, {} of {} partitions read",
                                      topic, timeout_s, done.size(), partitions));
      }
      continue;
    }
    idle = Stopwatch();
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      done.insert(m->partition);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(ErrorCode::kKafka,
                        fmt::format("reading {}: {}", topic, rd_kafka_message_errstr(m.get())));
    }
    fn(m.get());
  }
  rd_kafka_consumer_close(rk->get());
  return ok_status();
}

}  // namespace kv::kafka
