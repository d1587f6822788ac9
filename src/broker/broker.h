// The durable broker as one object: topic store, group coordinator, TCP server and the
// retention pass, started together. Used by `kvision broker` and `kvision run`.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/group_coordinator.h"
#include "broker/server.h"
#include "broker/topic_store.h"
#include "broker/txn_coordinator.h"
#include "common/result.h"

namespace kv::broker {

struct BrokerConfig {
  std::filesystem::path data_dir = "kvision-data";
  ServerParams server;
  LogConfig log;                                    // defaults for every topic
  std::vector<std::pair<std::string, int>> topics;  // created if absent
  int retention_check_ms = 30000;                   // how often retention runs
  int txn_check_ms = 1000;                          // how often transaction timeouts are checked
};

// Lifecycle: start() opens (recovers) the data directory and listens; the destructor stops
// serving, flushes the logs and closes the files.
class DurableBroker {
 public:
  static Result<std::unique_ptr<DurableBroker>> start(const BrokerConfig& config);
  ~DurableBroker();
  DurableBroker(const DurableBroker&) = delete;
  DurableBroker& operator=(const DurableBroker&) = delete;

  std::string bootstrap() const;  // host:port for clients
  int port() const { return server_->port(); }
  const ServerStats& stats() const { return server_->stats(); }
  TopicStore& store() { return *store_; }
  TxnCoordinator::Stats transactions() const { return txns_->stats(); }

 private:
  DurableBroker() = default;
  std::unique_ptr<TopicStore> store_;
  std::unique_ptr<GroupCoordinator> groups_;
  std::unique_ptr<TxnCoordinator> txns_;
  std::unique_ptr<BrokerServer> server_;
  std::jthread retention_;
  uint64_t metrics_collector_ = 0;
  void collect_metrics();
};

}  // namespace kv::broker
