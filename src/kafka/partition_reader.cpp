#include "kafka/partition_reader.h"
#include "kafka/client.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"

namespace kv::kafka {

Result<std::unique_ptr<PartitionReader>> PartitionReader::create(const KafkaConfig& config,
                                                                 const Options& options) {
  // A group id is required by the client's consumer API; it never joins or commits.
  auto conf = make_conf(
      config, {{"group.id", fmt::format("kvision-{}-{}", options.name, ::getpid())},
               {"enable.auto.commit", "false"},
               {"enable.auto.offset.store", "false"},
               {"enable.partition.eof", options.report_ends ? "true" : "false"},
               {"isolation.level", options.committed ? "read_committed" : "read_uncommitted"},
               {"fetch.wait.max.ms", "100"},
               {"fetch.message.max.bytes", "16777216"}});
  if (!conf) return conf.error();
  auto rk = new_handle(RD_KAFKA_CONSUMER, *conf, options.name.c_str());
  if (!rk) return rk.error();
  std::unique_ptr<PartitionReader> r(new PartitionReader());
  r->rk_ = std::move(*rk);
  r->name_ = options.name;
  rd_kafka_poll_set_consumer(r->rk_.get());
  return r;
}

PartitionReader::~PartitionReader() {
  close();
}

Status PartitionReader::read(const std::vector<PartitionStart>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const PartitionStart& p : partitions) {
    if (!reading_.insert(p.partition).second) continue;
    rd_kafka_topic_partition_list_add(list.get(), p.partition.topic.c_str(), p.partition.partition)
        ->offset = p.offset;
  }
  if (list->cnt == 0) return ok_status();
  if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_.get(), list.get())) {
    Error error = make_error(ErrorCode::kKafka, fmt::format("{}: cannot read partitions: {}", name_,
                                                            rd_kafka_error_string(e)));
    rd_kafka_error_destroy(e);
    for (int i = 0; i < list->cnt; ++i)
      reading_.erase({list->elems[i].topic, list->elems[i].partition});
    return error;
  }
  return ok_status();
}

void PartitionReader::follow(const std::string& topic, int64_t start) {
  followed_.emplace_back(topic, start);
  refreshed_us_ = 0;  // at the next poll
}

Result<std::vector<TopicPartition>> PartitionReader::partitions_of(const std::string& topic,
                                                                   int timeout_ms) {
  auto ids = topic_partitions(rk_.get(), topic, timeout_ms);
  if (!ids) return ids.error();
  std::vector<TopicPartition> out;
  for (int32_t p : *ids) out.push_back({topic, p});
  return out;
}

Result<int> PartitionReader::refresh(int timeout_ms) {
  refreshed_us_ = mono_now_us();
  int first = 0;
  std::vector<PartitionStart> add;
  for (size_t i = 0; i < followed_.size(); ++i) {
    const auto& [topic, start] = followed_[i];
    auto parts = partitions_of(topic, timeout_ms);
    if (!parts) return parts.error();
    if (i == 0) first = static_cast<int>(parts->size());
    for (const TopicPartition& tp : *parts) {
      if (reading_.count(tp) == 0) add.push_back({tp, start});
    }
  }
  if (!add.empty()) {
    if (Status s = read(add); !s) return s.error();
    log_info("{}: reading {} more partition(s)", name_, add.size());
  }
  followed_partitions_ = first;
  return first;
}

Status PartitionReader::clear() {
  followed_.clear();
  reading_.clear();
  ends_.clear();
  if (rd_kafka_resp_err_t e = rd_kafka_assign(rk_.get(), nullptr); e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(ErrorCode::kKafka,
                      fmt::format("{}: cannot stop reading: {}", name_, rd_kafka_err2str(e)));
  return ok_status();
}

Result<Message> PartitionReader::poll(int timeout_ms) {
  constexpr int64_t kRefreshUs = 5'000'000;  // topics and partitions created later
  if (!followed_.empty() && mono_now_us() - refreshed_us_ >= kRefreshUs) {
    if (auto r = refresh(5000); !r) log_warn("{}: {}", name_, r.error().message);
  }
  return poll_consumer(rk_.get(), timeout_ms, &ends_);
}

void PartitionReader::close() {
  if (closed_ || !rk_) return;
  closed_ = true;
  rd_kafka_consumer_close(rk_.get());  // never joined a group: returns at once
}

Result<std::vector<PartitionStart>> PartitionReader::starts_at_time(
    const std::vector<TopicPartition>& partitions, int64_t timestamp_ms, int timeout_ms) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartition& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
        timestamp_ms;
  }
  if (rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk_.get(), list.get(), timeout_ms);
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka, fmt::format("{}: cannot look up offsets by time: {}",
                                                     name_, rd_kafka_err2str(e)));
  }
  std::vector<PartitionStart> out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(ErrorCode::kKafka,
                        fmt::format("{}: offset by time of {}[{}]: {}", name_, p.topic, p.partition,
                                    rd_kafka_err2str(p.err)));
    }
    if (p.offset >= 0) out.push_back({{p.topic, p.partition}, p.offset});
  }
  return out;
}

Status read_to_end(const KafkaConfig& config, const std::string& topic,
                   const ReadToEndOptions& options, const std::function<void(const Message&)>& fn) {
  return read_to_end(
      config, topic, {}, options,
      [](PartitionReader&, const std::vector<TopicPartition>& parts) {
        std::vector<PartitionStart> starts;
        for (const TopicPartition& tp : parts) starts.push_back({tp, PartitionStart::kBeginning});
        return Result<std::vector<PartitionStart>>(std::move(starts));
      },
      fn);
}

Status read_to_end(const KafkaConfig& config, const std::string& topic,
                   const std::vector<int32_t>& partitions, const ReadToEndOptions& options,
                   const std::function<Result<std::vector<PartitionStart>>(
                       PartitionReader&, const std::vector<TopicPartition>&)>& pick,
                   const std::function<void(const Message&)>& fn) {
  auto reader = PartitionReader::create(
      config, {.committed = options.committed, .report_ends = true, .name = "topic-reader"});
  if (!reader) return reader.error();
  auto parts = (*reader)->partitions_of(topic, 10000);
  if (!parts) return parts.error();
  if (parts->empty()) {
    if (options.may_be_missing) return ok_status();
    return make_error(ErrorCode::kNotFound, fmt::format("topic {} does not exist", topic));
  }
  if (!partitions.empty()) {
    std::erase_if(*parts, [&](const TopicPartition& tp) {
      return std::find(partitions.begin(), partitions.end(), tp.partition) == partitions.end();
    });
  }
  auto starts = pick(**reader, *parts);
  if (!starts) return starts.error();
  if (starts->empty()) return ok_status();
  if (Status s = (*reader)->read(*starts); !s) return s;
  Stopwatch idle;
  size_t ended = 0;
  while ((*reader)->ends().size() < starts->size()) {
    auto m = (*reader)->poll(200);
    if (!m)
      return make_error(ErrorCode::kKafka, fmt::format("reading {}: {}", topic, m.error().message));
    if (*m) {
      fn(*m);
      idle = Stopwatch();
    } else if ((*reader)->ends().size() > ended) {
      ended = (*reader)->ends().size();
      idle = Stopwatch();
    } else if (idle.elapsed_ms() > options.idle_timeout_s * 1000.0) {
      return make_error(ErrorCode::kKafka,
                        fmt::format("reading {}: nothing for {} s, {} of {} partitions read", topic,
                                    options.idle_timeout_s, ended, starts->size()));
    }
  }
  return ok_status();
}

}  // namespace kv::kafka
