#include "broker/broker.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"

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
  auto groups = GroupCoordinator::open(config.data_dir);
  if (!groups) return groups.error();
  b->groups_ = std::move(*groups);
  auto txns = TxnCoordinator::open(config.data_dir, *b->store_, *b->groups_);
  if (!txns) return txns.error();
  b->txns_ = std::move(*txns);
  auto server = BrokerServer::start(config.server, *b->store_, *b->groups_, *b->txns_);
  if (!server) return server.error();
  b->server_ = std::move(*server);
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
    }
  });
  return b;
}

DurableBroker::~DurableBroker() {
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
