// Any bytes a client sends as a request frame must give a response or a clean error (the
// connection is closed), never a crash or a hang. The store lives in a temporary directory.
// Inputs are steered onto the broker's API table: an API key it does not serve is mapped onto
// one it does, and a version outside that API's range into it, so most runs reach a handler.
// A negative version is left as it is, to exercise the header's own errors.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "broker/handlers.h"
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

// Maps the frame's api key and version (big-endian, bytes 0-3) onto the broker's table.
void steer(std::vector<uint8_t>& frame) {
  if (frame.size() < 4 || (frame[2] & 0x80) != 0) return;
  const std::vector<kv::broker::ApiRange>& apis = kv::broker::supported_apis();
  const auto key = static_cast<int16_t>((frame[0] << 8) | frame[1]);
  auto version = static_cast<int16_t>((frame[2] << 8) | frame[3]);
  const kv::broker::ApiRange* api = nullptr;
  for (const auto& a : apis) api = a.key == key ? &a : api;
  if (api == nullptr) api = &apis[static_cast<uint16_t>(key) % apis.size()];
  if (version < api->min_version || version > api->max_version)
    version = static_cast<int16_t>(api->min_version +
                                   version % (api->max_version - api->min_version + 1));
  frame[0] = static_cast<uint8_t>(api->key >> 8);
  frame[1] = static_cast<uint8_t>(api->key & 0xff);
  frame[2] = static_cast<uint8_t>(version >> 8);
  frame[3] = static_cast<uint8_t>(version & 0xff);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Broker broker;
  std::vector<uint8_t> frame(data, data + size);
  steer(frame);
  (void)broker.server->handle(frame);
  return 0;
}
