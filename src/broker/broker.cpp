#include "broker/broker.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"
#include "metrics/stage_metrics.h"

namespace kv::broker {

Result<std::unique_ptr<DurableBroker>> DurableBroker::start(const BrokerConfig& config) {
  std::unique_ptr<DurableBroker> b(new DurableBroker());
  auto store = TopicStore::open(config.data_dir, config.log);
  if (!store) return store.error();
  b->store_ = std::move(*store);
  for (const auto& [name, partitions] : config.topics) {
    if (b->store_->partition_count(name) > 0) continue;
    const int n = partitions > 0 ? partitions : config.server.default_partitions;
    if (Status s = b->store_->create_topic(name, n); !s) return s.error();
  }
  GroupLimits group_limits;
  group_limits.offsets_flush_ms = config.log.flush_interval_ms;
  auto groups = GroupCoordinator::open(config.data_dir, group_limits);
  if (!groups) return groups.error();
  b->groups_ = std::move(*groups);
  auto txns = TxnCoordinator::open(config.data_dir, *b->store_, *b->groups_);
  if (!txns) return txns.error();
  b->txns_ = std::move(*txns);
  auto server = BrokerServer::start(config.server, *b->store_, *b->groups_, *b->txns_);
  if (!server) return server.error();
  b->server_ = std::move(*server);
  DurableBroker* self = b.get();
  metrics::build_info("broker", "");
  b->metrics_collector_ = metrics::global().on_collect([self] { self->collect_metrics(); });
  TopicStore* topics = b->store_.get();
  TxnCoordinator* txn = b->txns_.get();
  const int retention_ms = std::max(10, config.retention_check_ms);
  const int txn_ms = std::max(10, config.txn_check_ms);
  // One housekeeping thread: transaction timeouts often, retention less often.
  b->retention_ = std::jthread([topics, txn, retention_ms, txn_ms](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    const int tick_ms = std::min(retention_ms, txn_ms);
    int64_t next_retention = mono_now_us() / 1000 + retention_ms;
    for (;;) {
      cv.wait_for(lock, stop, std::chrono::milliseconds(tick_ms), [] { return false; });
      if (stop.stop_requested()) return;
      const int64_t now = mono_now_us() / 1000;
      txn->expire(now);
      if (now < next_retention) continue;
      next_retention = now + retention_ms;
      const int deleted = topics->enforce_retention(wall_now_us() / 1000);
      if (deleted > 0) log_info("broker: retention deleted {} segment(s)", deleted);
      if (const auto c = topics->compact(); c.segments_rewritten > 0) {
        log_info(
            "broker: compaction removed {} superseded record(s) from {} segment(s), {} -> {} bytes",
            c.records_removed, c.segments_rewritten, c.bytes_before, c.bytes_after);
      }
    }
  });
  return b;
}

void DurableBroker::collect_metrics() {
  metrics::Registry& r = metrics::global();
  const ServerStats& st = server_->stats();
  for (int api = 0; api < ServerStats::kApiSlots; ++api) {
    const int64_t n = st.requests_by_api[static_cast<size_t>(api)].load();
    if (n == 0) continue;
    r.counter("kvision_broker_requests_total", "Requests served, by Kafka API",
              {{"api", api_name(static_cast<int16_t>(api))}})
        .set_total(static_cast<double>(n));
  }
  r.counter("kvision_broker_bytes_total", "Bytes received and sent", {{"direction", "in"}})
      .set_total(static_cast<double>(st.bytes_in.load()));
  r.counter("kvision_broker_bytes_total", "Bytes received and sent", {{"direction", "out"}})
      .set_total(static_cast<double>(st.bytes_out.load()));
  r.counter("kvision_broker_request_errors_total", "Malformed or unsupported requests")
      .set_total(static_cast<double>(st.errors.load()));
  r.gauge("kvision_broker_connections", "Open client connections")
      .set(static_cast<double>(st.open_connections.load()));
  for (const std::string& topic : store_->topic_names()) {
    for (int p = 0; p < store_->partition_count(topic); ++p) {
      std::shared_ptr<PartitionLog> log = store_->partition(topic, p);
      if (log == nullptr) continue;
      const metrics::Labels labels{{"topic", topic}, {"partition", std::to_string(p)}};
      r.gauge("kvision_broker_log_size_bytes", "Bytes on disk per partition", labels)
          .set(static_cast<double>(log->size_bytes()));
      r.gauge("kvision_broker_log_end_offset", "Next offset to be written per partition", labels)
          .set(static_cast<double>(log->log_end_offset()));
      r.gauge("kvision_broker_log_start_offset", "First offset kept per partition", labels)
          .set(static_cast<double>(log->log_start_offset()));
    }
  }
  for (const auto& [group, type] : groups_->list_groups()) {
    const auto d = groups_->describe(group);
    r.gauge("kvision_broker_group_members", "Members of a consumer group", {{"group", group}})
        .set(d ? static_cast<double>(d->members.size()) : 0.0);
  }
  const TxnCoordinator::Stats t = txns_->stats();
  r.counter("kvision_broker_transactions_total", "Transactions ended, by result",
            {{"result", "committed"}})
      .set_total(static_cast<double>(t.committed));
  r.counter("kvision_broker_transactions_total", "Transactions ended, by result",
            {{"result", "aborted"}})
      .set_total(static_cast<double>(t.aborted));
  r.gauge("kvision_broker_open_transactions", "Transactions open now")
      .set(static_cast<double>(t.open));
}

DurableBroker::~DurableBroker() {
  if (metrics_collector_ != 0) metrics::global().remove_collector(metrics_collector_);
  if (retention_.joinable()) {
    retention_.request_stop();
    retention_.join();
  }
  server_.reset();  // no request in flight past here
  txns_.reset();
  groups_.reset();
  store_.reset();
}

std::string DurableBroker::bootstrap() const {
  return fmt::format("{}:{}", server_->advertised_host(), server_->port());
}

}  // namespace kv::broker
