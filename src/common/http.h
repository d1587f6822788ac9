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
};

// What a handler answers on one connection.
class Responder {
 public:
  Responder(int fd, bool head_only) : fd_(fd), head_only_(head_only) {}
  // A complete response; false when the client went away.
  bool send(int status, const std::string& type, const std::string& body,
            const std::string& extra_headers = "");
  // Starts a stream (no length, no caching); then write() until it returns false.
  bool start_stream(const std::string& type);
  bool write(const std::string& chunk);

 private:
  bool send_all(const std::string& data);
  int fd_;
  bool head_only_;  // a HEAD request: headers, no body
};

using Handler = std::function<void(const Request&, Responder&)>;

// Lifecycle: start() binds and accepts on its own thread; stop() (or the destructor) closes
// the listener and every connection, and joins their threads.
class Server {
 public:
  // `address`: HOST:PORT, :PORT or PORT (host 127.0.0.1).
  static Result<std::unique_ptr<Server>> start(const std::string& address, Handler handler,
                                               int max_connections = 64);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void stop();
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  bool stopping() const { return stop_.load(); }

 private:
  Server() = default;
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  int max_connections_ = 64;
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

// Parses "GET /path?a=1&b=x%20y HTTP/1.1\r\n..." (the request head); false if malformed.
bool parse_request(const std::string& head, Request& out);
// %XX escapes; '+' is a space only in a query (plus_is_space).
std::string url_decode(const std::string& s, bool plus_is_space = true);

// Parses HOST:PORT, :PORT or PORT (host 127.0.0.1); an error names what is wrong.
Result<std::pair<std::string, int>> parse_listen_address(const std::string& address);

}  // namespace kv::http
