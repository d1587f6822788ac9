// Any bytes a client sends as a request frame must give a response or a clean error (the
// connection is closed), never a crash or a hang. The store lives in a temporary directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "broker/server.h"
#include "broker/topic_store.h"
#include "common/log.h"

namespace {

struct Broker {
  Broker() {
    kv::set_log_level(kv::LogLevel::kError);
    const auto dir =
        std::filesystem::temp_directory_path() / ("kv_fuzz_broker_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    store = std::move(*kv::broker::TopicStore::open(dir, kv::broker::LogConfig{}));
    (void)store->create_topic("t", 2);
    kv::broker::ServerParams params;
    params.port = 0;
    params.max_fetch_wait_ms = 0;  // a fuzzed long poll would only wait
    // Joins and syncs wait for other members; bounded tightly here so no input can stall.
    kv::broker::GroupLimits limits;
    limits.max_rebalance_timeout_ms = 0;
    limits.max_session_timeout_ms = 1000;
    groups = std::move(*kv::broker::GroupCoordinator::open(dir, limits));
    txns = std::move(*kv::broker::TxnCoordinator::open(dir, *store, *groups));
    server = std::move(*kv::broker::BrokerServer::start(params, *store, *groups, *txns));
  }
  std::unique_ptr<kv::broker::TopicStore> store;
  std::unique_ptr<kv::broker::GroupCoordinator> groups;
  std::unique_ptr<kv::broker::TxnCoordinator> txns;
  std::unique_ptr<kv::broker::BrokerServer> server;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Broker broker;
  (void)broker.server->handle(std::span<const uint8_t>(data, size));
  return 0;
}
