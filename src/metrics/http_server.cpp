#include "metrics/http_server.h"

#include <fmt/format.h>

#include "common/log.h"

namespace kv::metrics {

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& address,
                                                      Registry& registry, ReadinessFn ready,
                                                      const http::ServerOptions& options) {
  std::unique_ptr<HttpServer> s(new HttpServer(registry, std::move(ready)));
  auto server = http::Server::start(
      address,
      [raw = s.get()](const http::Request& r, http::Responder& out) { raw->answer(r, out); },
      options);
  if (!server) {
    return make_error(server.error().code,
                      fmt::format("metrics endpoint: {}", server.error().message));
  }
  s->server_ = std::move(*server);
  log_info("metrics: {}://{}:{}/metrics (also /healthz, /readyz)",
           s->server_->tls() ? "https" : "http", s->host(), s->port());
  return s;
}

void HttpServer::answer(const http::Request& request, http::Responder& out) {
  const std::string text = "text/plain; charset=utf-8";
  if (request.path == "/metrics") {
    out.send(200, "text/plain; version=0.0.4; charset=utf-8", registry_.render());
  } else if (request.path == "/healthz") {
    out.send(200, text, "ok\n");
  } else if (request.path == "/readyz") {
    const std::string why = ready_ ? ready_() : std::string();
    out.send(why.empty() ? 200 : 503, text, why.empty() ? "ready\n" : "not ready: " + why + "\n");
  } else {
    out.send(404, text, "not found: try /metrics, /healthz or /readyz\n");
  }
}

}  // namespace kv::metrics
