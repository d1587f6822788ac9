#include "broker/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "broker/handlers.h"
#include "broker/protocol.h"
#include "broker/record_batch.h"
#include "common/log.h"

namespace kv::broker {
namespace {

bool read_full(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_full(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

std::string api_name(int16_t api_key) {
  static const std::map<int16_t, const char*> kNames = {
      {0, "Produce"},          {1, "Fetch"},
      {2, "ListOffsets"},      {3, "Metadata"},
      {8, "OffsetCommit"},     {9, "OffsetFetch"},
      {10, "FindCoordinator"}, {11, "JoinGroup"},
      {12, "Heartbeat"},       {13, "LeaveGroup"},
      {14, "SyncGroup"},       {15, "DescribeGroups"},
      {16, "ListGroups"},      {18, "ApiVersions"},
      {19, "CreateTopics"},    {20, "DeleteTopics"},
      {22, "InitProducerId"},  {32, "DescribeConfigs"},
      {33, "AlterConfigs"},    {44, "IncrementalAlterConfigs"},
  };
  auto it = kNames.find(api_key);
  return it != kNames.end() ? it->second : fmt::format("Api{}", api_key);
}

std::string ServerStats::requests_by_api_text() const {
  std::string out;
  for (size_t i = 0; i < requests_by_api.size(); ++i) {
    const int64_t n = requests_by_api[i].load();
    if (n == 0) continue;
    if (!out.empty()) out += ' ';
    out += fmt::format("{}={}", api_name(static_cast<int16_t>(i)), n);
  }
  return out.empty() ? "none" : out;
}

Result<std::unique_ptr<BrokerServer>> BrokerServer::start(const ServerParams& params,
                                                          TopicStore& store,
                                                          GroupCoordinator& groups,
                                                          TxnCoordinator& txns) {
  std::unique_ptr<BrokerServer> s(new BrokerServer(params, store, groups, txns));
  s->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->listen_fd_ < 0)
    return make_error(ErrorCode::kIo, fmt::format("socket: {}", std::strerror(errno)));
  int one = 1;
  ::setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, params.host.c_str(), &addr.sin_addr) != 1) {
    ::close(s->listen_fd_);
    s->listen_fd_ = -1;
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot listen on '{}': not an IPv4 address", params.host));
  }
  addr.sin_port = htons(static_cast<uint16_t>(params.port));
  if (s->params_.advertised_host.empty()) {
    s->params_.advertised_host = params.host;
    char name[256] = {};
    if (params.host == "0.0.0.0" && ::gethostname(name, sizeof name - 1) == 0)
      s->params_.advertised_host = name;
  }
  if (::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(s->listen_fd_, 64) != 0) {
    const int err = errno;
    ::close(s->listen_fd_);
    s->listen_fd_ = -1;
    return make_error(ErrorCode::kIo, fmt::format("cannot listen on {}:{}: {}", params.host,
                                                  params.port, std::strerror(err)));
  }
  socklen_t len = sizeof addr;
  ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  s->port_ = ntohs(addr.sin_port);
  s->acceptor_ = std::thread([raw = s.get()] { raw->accept_loop(); });
  return s;
}

BrokerServer::~BrokerServer() {
  stopping_ = true;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  {
    std::lock_guard lock(conn_mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  std::map<std::thread::id, std::thread> running;
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(conn_mu_);
    running.swap(conn_threads_);
    finished.swap(finished_threads_);
  }
  for (auto& [_, t] : running) t.join();
  for (auto& t : finished) t.join();
}

void BrokerServer::accept_loop() {
  while (!stopping_.load()) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    stats_.connections.fetch_add(1);
    stats_.open_connections.fetch_add(1);
    std::vector<std::thread> finished;
    {
      std::lock_guard lock(conn_mu_);
      finished.swap(finished_threads_);
      conn_fds_.insert(fd);
      std::thread t([this, fd] { serve(fd); });
      const std::thread::id id = t.get_id();
      conn_threads_.emplace(id, std::move(t));
    }
    for (auto& t : finished) t.join();  // they have returned from serve(): quick
  }
}

void BrokerServer::serve(int fd) {
  std::vector<uint8_t> request;
  for (;;) {
    uint8_t size_bytes[4];
    if (!read_full(fd, size_bytes, 4)) break;
    const int32_t size = static_cast<int32_t>(load_be32(size_bytes));
    if (size < 8 || static_cast<size_t>(size) > params_.max_request_bytes) {
      log_warn("broker: closing a connection that sent a request of {} bytes", size);
      stats_.errors.fetch_add(1);
      break;
    }
    request.resize(static_cast<size_t>(size));
    if (!read_full(fd, request.data(), request.size())) break;
    stats_.bytes_in.fetch_add(size + 4);
    auto response = handle(request);
    if (!response) {
      log_warn("broker: closing a connection: {}", response.error().message);
      stats_.errors.fetch_add(1);
      break;
    }
    if (!*response) continue;
    std::vector<uint8_t>& body = **response;
    uint8_t prefix[4];
    store_be32(prefix, static_cast<uint32_t>(body.size()));
    if (!write_full(fd, prefix, 4) || !write_full(fd, body.data(), body.size())) break;
    stats_.bytes_out.fetch_add(static_cast<int64_t>(body.size()) + 4);
  }
  stats_.open_connections.fetch_sub(1);
  std::lock_guard lock(conn_mu_);
  conn_fds_.erase(fd);
  ::close(fd);
  // Handed to the acceptor to join; at shutdown the destructor has taken the map already.
  auto self = conn_threads_.find(std::this_thread::get_id());
  if (self != conn_threads_.end()) {
    finished_threads_.push_back(std::move(self->second));
    conn_threads_.erase(self);
  }
}

Result<std::optional<std::vector<uint8_t>>> BrokerServer::handle(std::span<const uint8_t> request) {
  stats_.requests.fetch_add(1);
  Reader in(request);
  RequestHeader h;
  h.api_key = in.i16();
  h.api_version = in.i16();
  h.correlation_id = in.i32();
  h.client_id = in.nullable_string();
  if (in.failed()) return make_error(ErrorCode::kDecode, "truncated request header");
  if (h.api_key >= 0 && h.api_key < ServerStats::kApiSlots)
    stats_.requests_by_api[static_cast<size_t>(h.api_key)].fetch_add(1);
  HandlerContext ctx{store_, groups_, txns_, params_, port_};
  return dispatch(ctx, h, in);
}

}  // namespace kv::broker
