// The monitoring endpoint: GET /metrics (Prometheus text format), /healthz (the process is
// alive) and /readyz (ready to work: connected, assigned, model loaded).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/http.h"
#include "common/result.h"
#include "metrics/registry.h"

namespace kv::metrics {

// Returns "" when ready, else why not (answered with 503).
using ReadinessFn = std::function<std::string()>;

// Lifecycle: start() binds and serves on threads of its own until destroyed.
class HttpServer {
 public:
  // `address` is HOST:PORT, :PORT or PORT; the host defaults to 127.0.0.1 (loopback only).
  // `options` may ask for HTTPS (tls_cert and tls_key).
  static Result<std::unique_ptr<HttpServer>> start(const std::string& address, Registry& registry,
                                                   ReadinessFn ready,
                                                   const http::ServerOptions& options = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return server_->port(); }
  const std::string& host() const { return server_->host(); }

 private:
  HttpServer(Registry& registry, ReadinessFn ready)
      : registry_(registry), ready_(std::move(ready)) {}
  void answer(const http::Request& request, http::Responder& out);

  Registry& registry_;
  ReadinessFn ready_;
  std::unique_ptr<http::Server> server_;  // last: stopped before the rest goes
};

using http::parse_listen_address;

}  // namespace kv::metrics
