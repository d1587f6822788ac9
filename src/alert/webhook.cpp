#include "alert/webhook.h"

#include <netdb.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"
#include "metrics/registry.h"

namespace kv::alert {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void count_webhook(const char* outcome) {
  if (!metrics::enabled()) return;
  metrics::global()
      .counter("kvision_webhook_posts_total", "Webhook POSTs by outcome (ok, retry, failed)",
               {{"outcome", outcome}})
      .inc();
}

}  // namespace

Result<HttpUrl> parse_http_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("webhook '{}': https is not supported; use http:// (a TLS "
                                  "proxy in front of the receiver if it must be encrypted)",
                                  url));
  }
  if (url.rfind(kScheme, 0) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("webhook '{}': expected http://HOST[:PORT][/PATH]", url));
  }
  HttpUrl out;
  std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    out.path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  out.host = rest.substr(0, colon);
  if (colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || out.port <= 0 ||
        out.port > 65535) {
      return make_error(ErrorCode::kInvalidArgument, fmt::format("webhook '{}': bad port", url));
    }
  }
  if (out.host.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("webhook '{}': no host", url));
  }
  return out;
}

std::string webhook_signature(const std::string& secret, int64_t timestamp_s,
                              const std::string& body) {
  const std::string message = fmt::format("{}.{}", timestamp_s, body);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string("sha256=") + hex;
}

Result<int> http_post(const HttpUrl& url, const std::string& body, int timeout_ms,
                      const std::string& extra_headers) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  if (int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot resolve '{}': {}", url.host, gai_strerror(rc)));
  }
  Fd sock;
  int err = 0;
  for (addrinfo* a = found; a != nullptr && sock.fd < 0; a = a->ai_next) {
    sock.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (sock.fd < 0) continue;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(sock.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(sock.fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      ::close(sock.fd);
      sock.fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (sock.fd < 0) {
    return make_error(ErrorCode::kIo, fmt::format("cannot connect to {}:{}: {}", url.host, url.port,
                                                  std::strerror(err)));
  }
  const std::string request = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: "
      "{}\r\nUser-Agent: kvision-alert\r\n{}Connection: close\r\n\r\n{}",
      url.path, url.host, url.port, body.size(), extra_headers, body);
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return make_error(ErrorCode::kIo, fmt::format("sending: {}", std::strerror(errno)));
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buf[1024];
  while (answer.find("\r\n") == std::string::npos && answer.size() < 8192) {
    const ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  int status = 0;
  const size_t sp = answer.find(' ');
  if (answer.rfind("HTTP/", 0) != 0 || sp == std::string::npos ||
      std::from_chars(answer.data() + sp + 1, answer.data() + answer.size(), status).ec !=
          std::errc()) {
    return make_error(ErrorCode::kIo, "no HTTP answer");
  }
  return status;
}

Result<std::unique_ptr<Webhook>> Webhook::create(const std::string& url, int retries,
                                                 int backoff_ms, std::string secret) {
  auto parsed = parse_http_url(url);
  if (!parsed) return parsed.error();
  if (!secret.empty() && sodium_init() < 0)
    return make_error(ErrorCode::kInternal, "libsodium did not start");
  std::unique_ptr<Webhook> w(new Webhook());
  w->url_ = *parsed;
  w->secret_ = std::move(secret);
  w->retries_ = retries;
  w->backoff_ms_ = std::max(1, backoff_ms);
  w->thread_ = std::thread([raw = w.get()] { raw->run(); });
  return w;
}

Webhook::~Webhook() {
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    drain_deadline_us_ = mono_now_us() + int64_t{drain_ms} * 1000;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  if (!queue_.empty()) {
    log_warn("webhook: {} alert(s) not posted before exit (still in the alerts topic)",
             queue_.size());
  }
}

void Webhook::post(std::string body) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(body));
  }
  wake_.notify_all();
}

WebhookStats Webhook::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Webhook::run() {
  for (;;) {
    std::string body;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return draining_ || !queue_.empty(); });
      if (queue_.empty() || (draining_ && mono_now_us() > drain_deadline_us_)) return;
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    const bool ok = deliver(body);
    std::lock_guard lock(mutex_);
    ++(ok ? stats_.delivered : stats_.failed);
  }
}

bool Webhook::deliver(const std::string& body) {
  int64_t wait_ms = backoff_ms_;
  for (int attempt = 0;; ++attempt) {
    {
      std::lock_guard lock(mutex_);
      if (draining_ && mono_now_us() > drain_deadline_us_) return false;  // out of time at exit
      ++stats_.attempts;
    }
    std::string headers;
    if (!secret_.empty()) {
      const int64_t now_s = wall_now_us() / 1'000'000;
      headers = fmt::format("X-Kvision-Timestamp: {}\r\nX-Kvision-Signature: {}\r\n", now_s,
                            webhook_signature(secret_, now_s, body));
    }
    auto status = http_post(url_, body, 5000, headers);
    std::string why;
    if (status && *status >= 200 && *status < 300) {
      count_webhook("ok");
      return true;
    }
    if (status) {
      why = fmt::format("HTTP {}", *status);
      // A client error other than a timeout or rate limit will not go away by retrying.
      if (*status >= 400 && *status < 500 && *status != 408 && *status != 429) {
        log_error("webhook: {} answered {}; alert dropped (it is in the alerts topic)", url_.host,
                  why);
        count_webhook("failed");
        return false;
      }
    } else {
      why = status.error().message;
    }
    if (attempt >= retries_) {
      log_error("webhook: giving up after {} attempts ({}); the alert is in the alerts topic",
                attempt + 1, why);
      count_webhook("failed");
      return false;
    }
    count_webhook("retry");
    log_warn("webhook: attempt {} failed ({}); retrying in {} ms", attempt + 1, why, wait_ms);
    std::unique_lock lock(mutex_);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    // Sleeps through the backoff, but never past the deadline of draining at exit.
    while (std::chrono::steady_clock::now() < until) {
      if (draining_) {
        const int64_t left_us = drain_deadline_us_ - mono_now_us();
        if (left_us <= 0) return false;
        wake_.wait_until(lock, std::min(until, std::chrono::steady_clock::now() +
                                                   std::chrono::microseconds(left_us)));
      } else {
        wake_.wait_until(lock, until);
      }
    }
    wait_ms = std::min<int64_t>(wait_ms * 2, 30000);
  }
}

}  // namespace kv::alert
