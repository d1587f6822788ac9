// A small HTTP server for monitoring: GET /metrics (Prometheus text format), /healthz (the
// process is alive) and /readyz (ready to work: connected, assigned, model loaded).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "metrics/registry.h"

namespace kv::metrics {

// Returns "" when ready, else why not (answered with 503).
using ReadinessFn = std::function<std::string()>;

// Lifecycle: start() binds and serves on its own thread until destroyed. Requests are
// answered one at a time, each on a fresh connection (Connection: close).
class HttpServer {
 public:
  // `address` is HOST:PORT, :PORT or PORT; the host defaults to 127.0.0.1 (loopback only).
  static Result<std::unique_ptr<HttpServer>> start(const std::string& address, Registry& registry,
                                                   ReadinessFn ready);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  const std::string& host() const { return host_; }

 private:
  HttpServer(Registry& registry, ReadinessFn ready)
      : registry_(registry), ready_(std::move(ready)) {}
  void serve();
  void answer(int fd);

  Registry& registry_;
  ReadinessFn ready_;
  std::string host_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Parses HOST:PORT, :PORT or PORT (host 127.0.0.1); an error names what is wrong.
Result<std::pair<std::string, int>> parse_listen_address(const std::string& address);

}  // namespace kv::metrics
