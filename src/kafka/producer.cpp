#include "kafka/producer.h"
#include "kafka/client.h"
#include "kafka/consumer.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"

namespace kv::kafka {

Properties Producer::default_properties() {
  return {
      {"enable.idempotence", "true"},  // implies acks=all and ordered, deduplicated retries
      {"acks", "all"},
      {"linger.ms", "2"},            // frames are large; batching buys little, latency matters
      {"compression.type", "none"},  // JPEG does not compress further
      {"message.max.bytes", "16777216"},
      {"queue.buffering.max.kbytes", "262144"},
  };
}

Result<std::unique_ptr<Producer>> Producer::create(const KafkaConfig& config,
                                                   const Properties& extra) {
  Properties defaults = default_properties();
  defaults.insert(defaults.end(), extra.begin(), extra.end());
  auto conf = make_conf(config, defaults);
  if (!conf) return conf.error();
  std::unique_ptr<Producer> p(new Producer());
  rd_kafka_conf_set_dr_msg_cb(*conf, &Producer::on_delivery_report);
  rd_kafka_conf_set_error_cb(*conf, &Producer::on_error);
  rd_kafka_conf_set_opaque(*conf, p.get());
  auto rk = new_handle(RD_KAFKA_PRODUCER, *conf, "producer");
  if (!rk) return rk.error();
  p->rk_ = std::move(*rk);
  p->poller_ = std::thread([raw = p.get()] { raw->poll_loop(); });
  return p;
}

Producer::~Producer() {
  if (rk_) {
    if (Status s = flush(flush_timeout_ms); !s) log_error("producer: {}", s.error().message);
  }
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  // Records still queued after the flush timeout get their failure reports here.
  if (rk_) {
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_.get(), 0);
  }
}

namespace {

// Takes ownership of a librdkafka transaction error.
TxnResult txn_result(rd_kafka_error_t* error, const char* what) {
  if (error == nullptr) return {};
  TxnResult r;
  r.kind = rd_kafka_error_is_fatal(error)             ? TxnResult::kFatal
           : rd_kafka_error_txn_requires_abort(error) ? TxnResult::kAbortable
           : rd_kafka_error_is_retriable(error)       ? TxnResult::kRetriable
                                                      : TxnResult::kAbortable;
  r.message = fmt::format("{}: {}", what, rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  return r;
}

}  // namespace

TxnResult Producer::init_transactions(int timeout_ms) {
  return txn_result(rd_kafka_init_transactions(rk_.get(), timeout_ms), "init transactions");
}

TxnResult Producer::begin_transaction() {
  return txn_result(rd_kafka_begin_transaction(rk_.get()), "begin transaction");
}

TxnResult Producer::send_offsets(
    const Consumer& consumer, const std::vector<std::tuple<std::string, int32_t, int64_t>>& offsets,
    int timeout_ms) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [topic, partition, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  }
  rd_kafka_consumer_group_metadata_t* meta = rd_kafka_consumer_group_metadata(consumer.rk_.get());
  if (meta == nullptr) return {TxnResult::kAbortable, "send offsets: not a group consumer"};
  TxnResult r =
      txn_result(rd_kafka_send_offsets_to_transaction(rk_.get(), list.get(), meta, timeout_ms),
                 "send offsets to transaction");
  rd_kafka_consumer_group_metadata_destroy(meta);
  return r;
}

TxnResult Producer::commit_transaction(int timeout_ms) {
  return txn_result(rd_kafka_commit_transaction(rk_.get(), timeout_ms), "commit transaction");
}

TxnResult Producer::abort_transaction(int timeout_ms) {
  return txn_result(rd_kafka_abort_transaction(rk_.get(), timeout_ms), "abort transaction");
}

void Producer::poll_loop() {
  while (!stop_.load()) rd_kafka_poll(rk_.get(), 50);
}

void Producer::on_delivery_report(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  std::unique_ptr<DeliveryFn> fn(static_cast<DeliveryFn*>(msg->_private));
  if (!fn) return;
  Delivery d;
  d.partition = msg->partition;
  d.offset = msg->offset;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    d.status = make_error(ErrorCode::kKafka,
                          fmt::format("delivery to {} failed: {}", rd_kafka_topic_name(msg->rkt),
                                      rd_kafka_err2str(msg->err)));
  }
  (*fn)(d);
}

void Producer::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    log_error("producer: fatal error: {}", buf);
    self->fatal_ = true;
    return;
  }
  // Transport errors are retried by librdkafka; they are worth a line, not a stop.
  log_warn("producer: {} ({})", reason, rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

size_t Producer::max_message_bytes() const {
  char buf[32];
  size_t size = sizeof buf;
  long long max = 1000000;  // librdkafka's default
  if (rd_kafka_conf_get(rd_kafka_conf(rk_.get()), "message.max.bytes", buf, &size) ==
      RD_KAFKA_CONF_OK)
    max = std::atoll(buf);
  return static_cast<size_t>(std::max(0LL, max));
}

Status Producer::produce(const OutRecord& rec, DeliveryFn on_delivery) {
  rd_kafka_headers_t* hdrs = rd_kafka_headers_new(rec.headers.size());
  for (const auto& [k, v] : rec.headers) {
    rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                        static_cast<ssize_t>(v.size()));
  }
  auto fn = std::make_unique<DeliveryFn>(std::move(on_delivery));
  for (;;) {
    if (fatal_.load()) {
      rd_kafka_headers_destroy(hdrs);
      return make_error(ErrorCode::kKafka, "producer is in a fatal state; see the log above");
    }
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(rec.topic.c_str()),
        RD_KAFKA_V_PARTITION(rec.partition < 0 ? RD_KAFKA_PARTITION_UA : rec.partition),
        RD_KAFKA_V_KEY(const_cast<char*>(rec.key.data()), rec.key.size()),
        RD_KAFKA_V_VALUE(const_cast<uint8_t*>(rec.value.data()), rec.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_TIMESTAMP(rec.timestamp_ms), RD_KAFKA_V_OPAQUE(fn.get()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)fn.release();  // owned by the delivery report now, as are the headers
      return ok_status();
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_headers_destroy(hdrs);
      return make_error(ErrorCode::kKafka,
                        fmt::format("produce to {} failed: {}", rec.topic, rd_kafka_err2str(err)));
    }
    // Backpressure: the report thread drains the queue as the broker acknowledges.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status Producer::connect(const std::string& topic, int timeout_ms) {
  auto partitions = topic_partitions(topic, timeout_ms);
  if (!partitions) return partitions.error();
  return ok_status();
}

Result<int32_t> Producer::topic_partitions(const std::string& topic, int timeout_ms) {
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> rkt(
      rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr), &rd_kafka_topic_destroy);
  // A topic created a moment ago (by this process or another) reaches each broker's metadata
  // in its own time, and each request may go to another broker: ask again until the deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(
        rk_.get(), 0, rkt.get(), &md, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(ErrorCode::kKafka, fmt::format("cannot reach the Kafka cluster ({}): {}",
                                                       rd_kafka_err2str(err), "check --brokers"));
    }
    MetadataPtr owned(md);
    const rd_kafka_resp_err_t topic_err =
        md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0)
      return int32_t{md->topics[0].partition_cnt};
    const bool settling = topic_err == RD_KAFKA_RESP_ERR_NO_ERROR ||
                          topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                          topic_err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                          topic_err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (!settling || std::chrono::steady_clock::now() + std::chrono::milliseconds(100) > deadline) {
      return make_error(ErrorCode::kKafka, fmt::format("topic {} is not available: {}", topic,
                                                       topic_err == RD_KAFKA_RESP_ERR_NO_ERROR
                                                           ? "it has no partitions"
                                                           : rd_kafka_err2str(topic_err)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Status Producer::flush(int timeout_ms) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), timeout_ms);
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return make_error(ErrorCode::kTimeout,
                      fmt::format("flush timed out after {} ms with {} records undelivered",
                                  timeout_ms, rd_kafka_outq_len(rk_.get())));
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka, fmt::format("flush failed: {}", rd_kafka_err2str(err)));
  }
  return ok_status();
}

int Producer::outstanding() const {
  return rd_kafka_outq_len(rk_.get());
}

}  // namespace kv::kafka
