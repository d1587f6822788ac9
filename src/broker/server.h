// The durable broker's TCP front end: Kafka requests in, responses out.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "broker/group_coordinator.h"
#include "broker/topic_store.h"
#include "broker/txn_coordinator.h"
#include "common/result.h"

namespace kv::broker {

struct ServerParams {
  std::string host = "127.0.0.1";  // the address to listen on (IPv4); 0.0.0.0 for all
  int port = 9092;                 // 0 picks a free port
  // The host clients are told to connect to (Metadata, FindCoordinator); empty: `host`, or
  // this machine's name when listening on 0.0.0.0.
  std::string advertised_host;
  int default_partitions = 4;  // for topics created on first use
  int32_t node_id = 1;
  size_t max_request_bytes = 100u << 20;
  int max_fetch_wait_ms = 30000;  // cap on a client's fetch max_wait_ms
};

// Counters, readable from any thread.
struct ServerStats {
  static constexpr int kApiSlots = 64;  // Kafka API keys 0..63
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> bytes_in{0};
  std::atomic<int64_t> bytes_out{0};
  std::atomic<int64_t> errors{0};  // malformed requests and unsupported APIs
  std::array<std::atomic<int64_t>, kApiSlots> requests_by_api{};  // by API key

  // "Produce=120 Fetch=3400 ..." for the APIs that were called.
  std::string requests_by_api_text() const;
};

// The Kafka name of an API key ("Produce", "Fetch", ...), or "Api<N>".
std::string api_name(int16_t api_key);

// Lifecycle: start() listens and serves on background threads until destroyed. One thread per
// connection; requests on a connection are answered in order, as Kafka requires.
class BrokerServer {
 public:
  static Result<std::unique_ptr<BrokerServer>> start(const ServerParams& params, TopicStore& store,
                                                     GroupCoordinator& groups,
                                                     TxnCoordinator& txns);
  ~BrokerServer();
  BrokerServer(const BrokerServer&) = delete;
  BrokerServer& operator=(const BrokerServer&) = delete;

  int port() const { return port_; }
  const std::string& advertised_host() const { return params_.advertised_host; }
  const ServerStats& stats() const { return stats_; }

  // Handles one request frame (without its length prefix). Returns the response frame, or
  // nothing when the request gets no response (Produce with acks=0). Exposed for tests and
  // the fuzzer. An undecodable request yields an error: the connection is closed.
  Result<std::optional<std::vector<uint8_t>>> handle(std::span<const uint8_t> request);

 private:
  BrokerServer(ServerParams params, TopicStore& store, GroupCoordinator& groups,
               TxnCoordinator& txns)
      : params_(params), store_(store), groups_(groups), txns_(txns) {}
  void accept_loop();
  void serve(int fd);

  ServerParams params_;
  TopicStore& store_;
  GroupCoordinator& groups_;
  TxnCoordinator& txns_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex conn_mu_;
  std::set<int> conn_fds_;
  std::map<std::thread::id, std::thread> conn_threads_;
  std::vector<std::thread> finished_threads_;  // joined by the acceptor, or at shutdown
  ServerStats stats_;
};

}  // namespace kv::broker
