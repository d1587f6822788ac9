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
  auto server = BrokerServer::start(config.server, *b->store_, *b->groups_);
  if (!server) return server.error();
  b->server_ = std::move(*server);
  TopicStore* topics = b->store_.get();
  const int interval_ms = std::max(10, config.retention_check_ms);
  b->retention_ = std::jthread([topics, interval_ms](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait_for(lock, stop, std::chrono::milliseconds(interval_ms), [] { return false; });
      if (stop.stop_requested()) return;
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
  groups_.reset();
  store_.reset();
}

std::string DurableBroker::bootstrap() const {
  return fmt::format("{}:{}", server_->advertised_host(), server_->port());
}

}  // namespace kv::broker
