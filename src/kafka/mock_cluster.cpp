#include "kafka/mock_cluster.h"
#include "kafka/client.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka/config.h"
#include "wire/topics.h"

// librdkafka 2.0.2's mock cluster always binds 127.0.0.1:0 and has no API to choose a port.
// This process-wide bind() wrapper rewrites that one bind to the port requested by
// MockCluster::start(), while it runs on the starting thread and nowhere else; every other
// bind() goes straight to libc. With the real port in place the cluster also advertises it in
// its metadata, so any client can use a fixed, documented address.
namespace {
thread_local int t_bind_port_override = -1;
thread_local int t_bind_errno = 0;

using BindFn = int (*)(int, const struct sockaddr*, socklen_t);
BindFn real_bind() {
  static BindFn fn = reinterpret_cast<BindFn>(dlsym(RTLD_NEXT, "bind"));
  return fn;
}
}  // namespace

extern "C" int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  if (t_bind_port_override > 0 && addr != nullptr && addr->sa_family == AF_INET &&
      len >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    if (in.sin_port == 0) {
      in.sin_port = htons(static_cast<uint16_t>(t_bind_port_override));
      t_bind_port_override = -1;  // only the first listener
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      const int rc = real_bind()(fd, reinterpret_cast<const sockaddr*>(&in), sizeof in);
      t_bind_errno = rc == 0 ? 0 : errno;
      return rc;
    }
  }
  return real_bind()(fd, addr, len);
}

namespace kv::kafka {

Result<TopicSpec> parse_topic_spec(const std::string& text) {
  TopicSpec spec;
  const size_t colon = text.find(':');
  spec.name = text.substr(0, colon);
  if (spec.name.empty())
    return make_error(ErrorCode::kInvalidArgument, fmt::format("bad topic '{}'", text));
  if (colon != std::string::npos) {
    const std::string n = text.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), spec.partitions);
    if (ec != std::errc() || ptr != n.data() + n.size() || spec.partitions < 1 ||
        spec.partitions > 1024) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("bad topic '{}': partitions must be 1..1024 after the colon", text));
    }
  }
  return spec;
}

Result<std::unique_ptr<MockCluster>> MockCluster::start(const BrokerParams& params) {
  if (params.port < 0 || params.port > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("port {} is outside 0..65535", params.port));
  }
  if (params.partitions < 1)
    return make_error(ErrorCode::kInvalidArgument, "partitions must be >= 1");
  // librdkafka 2.0.2 asserts (aborts the process) when its mock cannot bind, so the port is
  // tried here first.
  if (params.port != 0) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in.sin_port = htons(static_cast<uint16_t>(params.port));
    const int rc = real_bind()(fd, reinterpret_cast<const sockaddr*>(&in), sizeof in);
    const int err = errno;
    close(fd);
    if (rc != 0) {
      return make_error(ErrorCode::kIo, fmt::format("cannot listen on 127.0.0.1:{}: {}",
                                                    params.port, std::strerror(err)));
    }
  }
  std::unique_ptr<MockCluster> b(new MockCluster());
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  auto rk = new_handle(RD_KAFKA_PRODUCER, conf, "the broker's handle");
  if (!rk) return rk.error();
  b->rk_ = std::move(*rk);

  t_bind_port_override = params.port;
  t_bind_errno = 0;
  b->cluster_ = rd_kafka_mock_cluster_new(b->rk_.get(), 1);
  t_bind_port_override = -1;
  if (b->cluster_ == nullptr) {
    return make_error(ErrorCode::kIo, fmt::format("cannot listen on 127.0.0.1:{}: {}", params.port,
                                                  t_bind_errno != 0 ? std::strerror(t_bind_errno)
                                                                    : "mock cluster failed"));
  }
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->cluster_);

  std::vector<TopicSpec> topics;
  for (std::string_view t : wire::kPipelineTopics) {
    topics.push_back({std::string(t), params.partitions});
  }
  for (std::string_view t : {wire::kRawFramesTopic, wire::kProcessedTopic}) {
    topics.push_back({std::string(t) + std::string(wire::kDeadLetterSuffix), 1});
  }
  topics.push_back({std::string(wire::kRawFramesTopic) + std::string(wire::kSkippedSuffix), 1});
  // The mock cannot create topics through the admin API; the detectors' tracker state.
  topics.push_back({std::string(wire::kTrackerStateTopic), params.partitions});
  for (TopicSpec t : params.topics) {
    if (t.partitions == 0) t.partitions = params.partitions;
    auto same = std::find_if(topics.begin(), topics.end(),
                             [&](const TopicSpec& known) { return known.name == t.name; });
    if (same != topics.end()) {
      same->partitions = t.partitions;  // a built-in topic with its own partition count
    } else {
      topics.push_back(t);
    }
  }
  for (const TopicSpec& t : topics) {
    const rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(b->cluster_, t.name.c_str(), t.partitions, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(ErrorCode::kKafka,
                        fmt::format("cannot create topic {}: {}", t.name, rd_kafka_err2str(e)));
    }
  }
  b->topics_ = std::move(topics);
  return b;
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

}  // namespace kv::kafka
