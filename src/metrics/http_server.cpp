#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "common/log.h"

namespace kv::metrics {

Result<std::pair<std::string, int>> parse_listen_address(const std::string& address) {
  std::string host = "127.0.0.1";
  std::string port_text = address;
  const size_t colon = address.rfind(':');
  if (colon != std::string::npos) {
    if (colon > 0) host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("bad address '{}': expected HOST:PORT, :PORT or PORT", address));
  }
  return std::make_pair(host, port);
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& address,
                                                      Registry& registry, ReadinessFn ready) {
  auto parsed = parse_listen_address(address);
  if (!parsed) return parsed.error();
  std::unique_ptr<HttpServer> s(new HttpServer(registry, std::move(ready)));
  s->host_ = parsed->first;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(parsed->second));
  if (inet_pton(AF_INET, s->host_.c_str(), &in.sin_addr) != 1) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("bad address '{}': '{}' is not an IPv4 address", address, s->host_));
  }
  s->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 ||
      ::listen(s->listen_fd_, 16) != 0) {
    const int err = errno;
    ::close(s->listen_fd_);
    s->listen_fd_ = -1;
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot serve metrics on {}: {}", address, std::strerror(err)));
  }
  socklen_t len = sizeof in;
  ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&in), &len);
  s->port_ = ntohs(in.sin_port);
  s->thread_ = std::thread([raw = s.get()] { raw->serve(); });
  log_info("metrics: http://{}:{}/metrics (also /healthz, /readyz)", s->host_, s->port_);
  return s;
}

HttpServer::~HttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void HttpServer::serve() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    answer(fd);
    ::close(fd);
  }
}

void HttpServer::answer(int fd) {
  std::string request;
  char buf[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  const size_t sp1 = request.find(' ');
  const size_t sp2 = request.find(' ', sp1 + 1);
  const std::string method = request.substr(0, sp1);
  std::string path = sp1 == std::string::npos ? "" : request.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  int status = 200;
  std::string type = "text/plain; charset=utf-8";
  std::string body;
  if (method != "GET" && method != "HEAD") {
    status = 405;
    body = "only GET\n";
  } else if (path == "/metrics") {
    type = "text/plain; version=0.0.4; charset=utf-8";
    body = registry_.render();
  } else if (path == "/healthz") {
    body = "ok\n";
  } else if (path == "/readyz") {
    const std::string why = ready_ ? ready_() : std::string();
    status = why.empty() ? 200 : 503;
    body = why.empty() ? "ready\n" : "not ready: " + why + "\n";
  } else {
    status = 404;
    body = "not found: try /metrics, /healthz or /readyz\n";
  }
  const char* reason = status == 200   ? "OK"
                       : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed"
                                       : "Service Unavailable";
  std::string response = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
      status, reason, type, body.size());
  if (method != "HEAD") response += body;
  size_t sent = 0;
  while (sent < response.size()) {
    const ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace kv::metrics
