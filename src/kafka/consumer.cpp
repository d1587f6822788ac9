#include "kafka/consumer.h"
#include "kafka/client.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"

namespace kv::kafka {

Properties Consumer::default_properties() {
  return {
      {"enable.auto.commit", "true"},         // commits what store_offset() stored...
      {"enable.auto.offset.store", "false"},  // ...and nothing is stored before it is done
      {"auto.commit.interval.ms", "200"},     // fresh commits keep lag-based backpressure accurate
      {"auto.offset.reset", "earliest"},
      // Results of aborted transactions (exactly-once detectors) are never seen; with
      // non-transactional producers this reads exactly what read_uncommitted reads.
      {"isolation.level", "read_committed"},
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "1000"},
      // How long the broker may hold a fetch while there is no data. kvision's broker and Kafka
      // answer a waiting fetch as soon as data arrives, so this only bounds idle polling (at 10 ms
      // `kvision run` measured 31.2 fps here, at 50-100 ms 33-34 fps, with no latency cost).
      // librdkafka's mock cluster (--engine mock) does hold the fetch: -X fetch.wait.max.ms=10
      // there for low latency.
      {"fetch.wait.max.ms", "100"},
      {"fetch.message.max.bytes", "16777216"},
      {"enable.partition.eof", "false"},
  };
}

static_assert(PartitionStart::kBeginning == RD_KAFKA_OFFSET_BEGINNING);
static_assert(PartitionStart::kEnd == RD_KAFKA_OFFSET_END);
static_assert(PartitionStart::tail(5) == RD_KAFKA_OFFSET_TAIL(5));

// librdkafka's callbacks, with access to the consumer they were registered for.
struct Consumer::Callbacks {
  static void rebalance(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque) {
    static_cast<Consumer*>(opaque)->on_rebalance(err, parts);
  }
};

std::vector<TopicPartition> to_partitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; list != nullptr && i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

Result<std::unique_ptr<Consumer>> Consumer::create(const KafkaConfig& config,
                                                   const std::string& group,
                                                   const Properties& extra,
                                                   RebalanceListener* listener) {
  Properties defaults = default_properties();
  // Named after the group, host and process, so `kvision status` and Kafka tools show who
  // owns which partitions.
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  defaults.emplace_back("client.id", fmt::format("{}@{}-{}", group, host, ::getpid()));
  defaults.emplace_back("group.id", group);
  defaults.insert(defaults.end(), extra.begin(), extra.end());
  auto conf = make_conf(config, defaults);
  if (!conf) return conf.error();
  std::unique_ptr<Consumer> c(new Consumer());
  c->listener_ = listener;
  rd_kafka_conf_set_opaque(*conf, c.get());
  rd_kafka_conf_set_rebalance_cb(*conf, &Callbacks::rebalance);
  auto rk = new_handle(RD_KAFKA_CONSUMER, *conf, "consumer");
  if (!rk) return rk.error();
  c->rk_ = std::move(*rk);
  rd_kafka_poll_set_consumer(c->rk_.get());
  return c;
}

Consumer::~Consumer() {
  close();
  // A close that timed out must not be waited for again by rd_kafka_destroy().
  if (abandoned_) rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

Status Consumer::subscribe(const std::vector<std::string>& topics) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics)
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka,
                      fmt::format("subscribe failed: {}", rd_kafka_err2str(err)));
  }
  return ok_status();
}

void Consumer::on_rebalance(int err, rd_kafka_topic_partition_list_t* parts) {
  rd_kafka_t* rk = rk_.get();
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  const auto list = to_partitions(parts);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    log_info("consumer: assigned {} partition(s)", list.size());
    // librdkafka keeps a partition's pause across unassign and assign: one paused by an
    // earlier owner (or by us before a revoke) would never be fetched again. A new assignment
    // starts fetching; the listener may pause it again.
    rd_kafka_resume_partitions(rk, parts);
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts)) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, parts);
    }
    if (listener_ != nullptr) listener_->on_assigned(list);
    return;
  }
  log_info("consumer: revoking {} partition(s) ({})", list.size(),
           rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
  if (listener_ != nullptr) listener_->on_revoking(list);
  // Commit what the listener stored while we still own the partitions.
  if (!rd_kafka_assignment_lost(rk)) {
    const rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, nullptr, 0);
    if (cerr != RD_KAFKA_RESP_ERR_NO_ERROR && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      log_warn("consumer: commit on revoke failed: {}", rd_kafka_err2str(cerr));
    }
  }
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts)) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
  rd_kafka_resume_partitions(rk, parts);  // no pause outlives the assignment (see above)
}

namespace {
Status pause_or_resume(rd_kafka_t* rk, bool pause) {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_resp_err_t e = rd_kafka_assignment(rk, &raw); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka,
                      fmt::format("cannot read the assignment: {}", rd_kafka_err2str(e)));
  }
  PartitionListPtr list(raw);
  const rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(rk, list.get())
                                      : rd_kafka_resume_partitions(rk, list.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(
        ErrorCode::kKafka,
        fmt::format("cannot {} fetching: {}", pause ? "pause" : "resume", rd_kafka_err2str(e)));
  }
  return ok_status();
}
}  // namespace

Status Consumer::pause() {
  return pause_or_resume(rk_.get(), true);
}

Status Consumer::resume() {
  return pause_or_resume(rk_.get(), false);
}

Result<Message> poll_consumer(rd_kafka_t* rk, int timeout_ms, std::set<TopicPartition>* ends) {
  MessagePtr msg(rd_kafka_consumer_poll(rk, timeout_ms));
  if (!msg) return Message();
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) return Message(msg.release());
  if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (ends != nullptr) ends->insert({rd_kafka_topic_name(msg->rkt), msg->partition});
    return Message();
  }
  char fatal[512];
  if (msg->err == RD_KAFKA_RESP_ERR__FATAL && rd_kafka_fatal_error(rk, fatal, sizeof fatal) != 0) {
    return make_error(ErrorCode::kKafka, fmt::format("consumer fatal error: {}", fatal));
  }
  log_warn("consumer: {}", rd_kafka_message_errstr(msg.get()));
  return Message();
}

Result<Message> Consumer::poll(int timeout_ms) {
  return poll_consumer(rk_.get(), timeout_ms, nullptr);
}

std::vector<PartitionLag> Consumer::lag() const {
  std::vector<PartitionLag> out;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  PartitionListPtr list(raw);
  rd_kafka_position(rk_.get(), list.get());
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_get_watermark_offsets(rk_.get(), tp.topic, tp.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;  // not fetched yet: no watermark known
    }
    const int64_t position = tp.offset >= 0 ? tp.offset : low;
    out.push_back({{tp.topic, tp.partition}, std::max<int64_t>(0, high - position)});
  }
  return out;
}

Status Consumer::store_offset(const std::string& topic, int32_t partition, int64_t next_offset) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = next_offset;
  const rd_kafka_resp_err_t err = rd_kafka_offsets_store(rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const auto e = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : list->elems[0].err;
    return make_error(ErrorCode::kKafka,
                      fmt::format("storing offset {} for {}[{}] failed: {}", next_offset, topic,
                                  partition, rd_kafka_err2str(e)));
  }
  return ok_status();
}

Status Consumer::commit_sync() {
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), nullptr, 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    return make_error(ErrorCode::kKafka, fmt::format("commit failed: {}", rd_kafka_err2str(err)));
  }
  return ok_status();
}

Status Consumer::rewind_to_committed(const std::vector<TopicPartition>& partitions,
                                     int timeout_ms) {
  if (partitions.empty()) return ok_status();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartition& tp : partitions)
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  if (const rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), list.get(), timeout_ms);
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka,
                      fmt::format("cannot read the committed offsets: {}", rd_kafka_err2str(err)));
  }
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].offset < 0) list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_.get(), list.get(), timeout_ms)) {
    Error error =
        make_error(ErrorCode::kKafka, fmt::format("cannot rewind: {}", rd_kafka_error_string(e)));
    rd_kafka_error_destroy(e);
    return error;
  }
  return ok_status();
}

void Consumer::close() {
  if (closed_ || !rk_) return;
  closed_ = true;
  // rd_kafka_consumer_close() waits for the group coordinator without a limit, so a broker
  // that is gone would hang the process at exit. Closing through a queue bounds the wait; the
  // revocation (and its commit) still runs through on_rebalance.
  rd_kafka_t* rk = rk_.get();
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(rk, q)) {
    log_warn("consumer: close: {}", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  }
  const int64_t deadline = mono_now_us() + int64_t{kCloseTimeoutMs} * 1000;
  while (!rd_kafka_consumer_closed(rk) && mono_now_us() < deadline) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 100);
    if (ev == nullptr) continue;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
      on_rebalance(rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev));
    }
    rd_kafka_event_destroy(ev);
  }
  if (!rd_kafka_consumer_closed(rk)) {
    log_warn("consumer: the group coordinator did not answer within {} s; leaving without it",
             kCloseTimeoutMs / 1000);
    abandoned_ = true;
  }
  rd_kafka_queue_destroy(q);
}

}  // namespace kv::kafka
