// A small HTTP/1.1 server: a thread per connection (for a handful of viewers or scrapers), GET
// and HEAD only, plus long-lived streams for server-sent events. Serves kvision web and the
// monitoring endpoint.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace kv::http {

struct Request {
  std::string method;
  std::string path;                            // decoded, without the query
  std::vector<std::string> segments;           // the path split at '/', then each decoded
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // POST: as sent (Content-Length bytes)
  std::string peer;                            // the client's IP address
  bool tls = false;                            // it came over HTTPS
};

// Every response carries these: no sniffing, no framing by other sites, no inline script or
// style, nothing loaded from elsewhere.
inline constexpr const char* kSecurityHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n";

class Connection;

// What a handler answers on one connection.
class Responder {
 public:
  Responder(Connection& conn, bool head_only) : conn_(conn), head_only_(head_only) {}
  // A complete response; false when the client went away.
  bool send(int status, const std::string& type, const std::string& body,
            const std::string& extra_headers = "");
  // Starts a stream (no length, no caching); then write() until it returns false.
  bool start_stream(const std::string& type);
  bool write(const std::string& chunk);

 private:
  Connection& conn_;
  bool head_only_;  // a HEAD request: headers, no body
};

using Handler = std::function<void(const Request&, Responder&)>;

struct ServerOptions {
  int max_connections = 64;         // more at once are answered 503
  size_t max_header_bytes = 16384;  // a longer request head is answered 431
  size_t max_body_bytes = 65536;    // a longer body is answered 413
  // Both set: HTTPS only (TLS 1.2 or newer), with this PEM certificate chain and key.
  std::string tls_cert;
  std::string tls_key;
};

// Lifecycle: start() binds and accepts on its own thread; stop() (or the destructor) closes
// the listener and every connection, and joins their threads. Methods: GET, HEAD, and POST
// with a Content-Length body. A request that breaks the limits or the syntax is answered
// 400, 405, 411, 413 or 431 and the connection closed.
class Server {
 public:
  // `address`: HOST:PORT, :PORT or PORT (host 127.0.0.1).
  static Result<std::unique_ptr<Server>> start(const std::string& address, Handler handler,
                                               const ServerOptions& options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void stop();
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  bool tls() const { return tls_ != nullptr; }
  bool stopping() const { return stop_.load(); }

 private:
  Server() = default;
  void accept_loop();
  void serve(int fd, const std::string& peer);

  Handler handler_;
  ServerOptions options_;
  std::shared_ptr<void> tls_;  // the SSL_CTX, when serving HTTPS
  std::string host_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::set<int> open_;  // connections being served
  int active_ = 0;
  std::condition_variable idle_;
};

// True for 127.0.0.0/8 and "localhost": an address only this machine reaches.
bool is_loopback(const std::string& host);

// Parses "GET /path?a=1&b=x%20y HTTP/1.1\r\n..." (the request head); false if malformed.
bool parse_request(const std::string& head, Request& out);
// %XX escapes; '+' is a space only in a query (plus_is_space).
std::string url_decode(const std::string& s, bool plus_is_space = true);

// The value of cookie `name` in a Cookie header.
std::optional<std::string> cookie_value(const std::string& header, const std::string& name);
// "a=1&b=x+y" (an application/x-www-form-urlencoded body): decoded fields.
std::map<std::string, std::string> form_fields(const std::string& body);

// Parses HOST:PORT, :PORT or PORT (host 127.0.0.1); an error names what is wrong.
Result<std::pair<std::string, int>> parse_listen_address(const std::string& address);

}  // namespace kv::http
