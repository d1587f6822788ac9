#include "common/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fmt/format.h>

#include "common/log.h"

namespace kv::http {
namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 303:
      return "See Other";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return status < 400 ? "OK" : "Error";
  }
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

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

std::string url_decode(const std::string& s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool parse_request(const std::string& head, Request& out) {
  const size_t sp1 = head.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? sp1 : head.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
  out.method = head.substr(0, sp1);
  const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target[0] != '/') return false;
  const size_t q = target.find('?');
  const std::string raw_path = target.substr(0, q);
  out.path = url_decode(raw_path, false);
  out.segments.clear();
  for (size_t start = 1; start <= raw_path.size();) {
    size_t slash = raw_path.find('/', start);
    if (slash == std::string::npos) slash = raw_path.size();
    out.segments.push_back(url_decode(raw_path.substr(start, slash - start), false));
    start = slash + 1;
  }
  out.headers.clear();
  for (size_t line = head.find("\r\n"); line != std::string::npos;) {
    const size_t next = head.find("\r\n", line + 2);
    if (next == std::string::npos) break;
    const std::string h = head.substr(line + 2, next - line - 2);
    const size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string name = h.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t v = h.find_first_not_of(' ', colon + 1);
      out.headers[name] = v == std::string::npos ? "" : h.substr(v);
    }
    line = next;
  }
  out.query.clear();
  if (q == std::string::npos) return true;
  size_t start = q + 1;
  while (start < target.size()) {
    size_t amp = target.find('&', start);
    if (amp == std::string::npos) amp = target.size();
    const std::string pair = target.substr(start, amp - start);
    const size_t eq = pair.find('=');
    if (!pair.empty()) {
      out.query[url_decode(pair.substr(0, eq))] =
          eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
    }
    start = amp + 1;
  }
  return true;
}

// One client connection, plain or TLS.
class Connection {
 public:
  Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Connection() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ssize_t recv(char* buf, size_t n) {
    if (ssl_ == nullptr) return ::recv(fd_, buf, n, 0);
    const int r = SSL_read(ssl_, buf, static_cast<int>(n));
    return r > 0 ? r : -1;
  }
  bool send_all(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n =
          ssl_ == nullptr
              ? ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL)
              : SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_;
};

bool Responder::send(int status, const std::string& type, const std::string& body,
                     const std::string& extra_headers) {
  return conn_.send_all(fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}"
                                    "{}Connection: close\r\n\r\n",
                                    status, reason(status), type, body.size(), kSecurityHeaders,
                                    extra_headers) +
                        (head_only_ ? std::string() : body));
}

bool Responder::start_stream(const std::string& type) {
  return conn_.send_all(
      fmt::format("HTTP/1.1 200 OK\r\nContent-Type: {}\r\nCache-Control: no-cache\r\n{}Connection: "
                  "close\r\nX-Accel-Buffering: no\r\n\r\n",
                  type, kSecurityHeaders));
}

bool Responder::write(const std::string& chunk) {
  return !head_only_ && conn_.send_all(chunk);  // a HEAD request gets the headers, then it is over
}

std::optional<std::string> cookie_value(const std::string& header, const std::string& name) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(';', start);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(start, end - start);
    const size_t first = part.find_first_not_of(' ');
    part = first == std::string::npos ? "" : part.substr(first);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 &&
        part[name.size()] == '=')
      return part.substr(name.size() + 1);
    start = end + 1;
  }
  return std::nullopt;
}

std::map<std::string, std::string> form_fields(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string::npos) amp = body.size();
    const std::string pair = body.substr(start, amp - start);
    const size_t eq = pair.find('=');
    if (!pair.empty() && eq != std::string::npos)
      out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
    start = amp + 1;
  }
  return out;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

namespace {

std::string tls_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Result<std::shared_ptr<void>> make_tls(const ServerOptions& o) {
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "TLS needs both a certificate (--tls-cert) and its key (--tls-key)");
  }
  if (o.tls_cert.empty()) return std::shared_ptr<void>();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return make_error(ErrorCode::kInternal, "TLS: " + tls_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), o.tls_cert.c_str()) != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot use --tls-cert '{}': {}", o.tls_cert, tls_error()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), o.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot use --tls-key '{}': {}", o.tls_key, tls_error()));
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("--tls-key '{}' is not the key of --tls-cert '{}'", o.tls_key, o.tls_cert));
  }
  return std::shared_ptr<void>(ctx, ctx.get());
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const std::string& address, Handler handler,
                                              const ServerOptions& options) {
  auto parsed = parse_listen_address(address);
  if (!parsed) return parsed.error();
  std::unique_ptr<Server> s(new Server());
  s->handler_ = std::move(handler);
  s->options_ = options;
  auto tls = make_tls(options);
  if (!tls) return tls.error();
  s->tls_ = std::move(*tls);
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
      ::listen(s->listen_fd_, 64) != 0) {
    const int err = errno;
    ::close(s->listen_fd_);
    s->listen_fd_ = -1;
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot listen on {}: {}", address, std::strerror(err)));
  }
  socklen_t len = sizeof in;
  ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&in), &len);
  s->port_ = ntohs(in.sin_port);
  s->acceptor_ = std::thread([raw = s.get()] { raw->accept_loop(); });
  return s;
}

Server::~Server() {
  stop();
}

void Server::stop() {
  if (stop_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock lock(mutex_);
  for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // wakes streams blocked in send/recv
  idle_.wait(lock, [&] { return active_ == 0; });
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void Server::accept_loop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &from_len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    char ip[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    std::lock_guard lock(mutex_);
    if (active_ >= options_.max_connections) {
      if (!tls_) {
        Connection conn(fd, nullptr);
        Responder(conn, false).send(503, "text/plain", "too many connections\n");
      }
      ::close(fd);
      continue;
    }
    ++active_;
    open_.insert(fd);
    std::thread([this, fd, peer = std::string(ip)] {
      serve(fd, peer);
      std::lock_guard done(mutex_);
      open_.erase(fd);
      ::close(fd);
      --active_;
      idle_.notify_all();
    }).detach();
  }
}

void Server::serve(int fd, const std::string& peer) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL* ssl = nullptr;
  if (tls_) {
    ssl = SSL_new(static_cast<SSL_CTX*>(tls_.get()));
    if (ssl == nullptr) return;
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {  // a plain-HTTP client, a bad handshake or a timeout
      log_debug("http: TLS handshake with {} failed: {}", peer, tls_error());
      SSL_free(ssl);
      return;
    }
  }
  Connection conn(fd, ssl);
  std::string data;
  char buf[4096];
  size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > options_.max_header_bytes) {
      Responder(conn, false).send(431, "text/plain", "request head too large\n");
      return;
    }
    const ssize_t n = conn.recv(buf, sizeof buf);
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
  }
  if (head_end > options_.max_header_bytes) {
    Responder(conn, false).send(431, "text/plain", "request head too large\n");
    return;
  }
  Request req;
  const bool parsed = parse_request(data.substr(0, head_end + 2), req);
  Responder out(conn, parsed && req.method == "HEAD");
  if (!parsed) {
    out.send(400, "text/plain", "bad request\n");
    return;
  }
  req.peer = peer;
  req.tls = ssl != nullptr;
  if (req.method == "POST") {
    auto cl = req.headers.find("content-length");
    if (cl == req.headers.end()) {
      out.send(411, "text/plain", "a POST needs a Content-Length\n");
      return;
    }
    size_t length = 0;
    auto [ptr, ec] =
        std::from_chars(cl->second.data(), cl->second.data() + cl->second.size(), length);
    if (ec != std::errc() || ptr != cl->second.data() + cl->second.size()) {
      out.send(400, "text/plain", "bad Content-Length\n");
      return;
    }
    if (length > options_.max_body_bytes) {
      out.send(413, "text/plain", "request body too large\n");
      return;
    }
    req.body = data.substr(head_end + 4);
    while (req.body.size() < length) {
      const ssize_t n = conn.recv(buf, sizeof buf);
      if (n <= 0) return;
      req.body.append(buf, static_cast<size_t>(n));
    }
    req.body.resize(length);
  } else if (req.method != "GET" && req.method != "HEAD") {
    out.send(405, "text/plain", "only GET, HEAD and POST\n");
    return;
  }
  try {
    handler_(req, out);
  } catch (const std::exception& e) {
    // A handler's bug answers 500 on this connection; it must not take the process down.
    log_error("http: {} {}: {}", req.method, req.path, e.what());
    out.send(500, "text/plain", "internal error\n");
  }
}

}  // namespace kv::http
