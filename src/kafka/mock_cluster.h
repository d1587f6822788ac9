// librdkafka's in-memory mock cluster served on a fixed address: the `--engine mock` of
// `kvision broker` and `kvision run`, for its fault injection. kvision's own durable broker is
// src/broker.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "kafka/handles.h"

struct rd_kafka_mock_cluster_s;

namespace kv::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 0;  // 0: BrokerParams::partitions
};

struct BrokerParams {
  int port = 9092;                // on 127.0.0.1; 0 picks a free port
  int partitions = 4;             // default partitions per topic
  std::vector<TopicSpec> topics;  // created in addition to kvision's own topics
};

// Parses "name" or "name:partitions" as given to --topic.
Result<TopicSpec> parse_topic_spec(const std::string& text);

// The mock cluster keeps every partition in memory and drops the oldest data beyond this.
inline constexpr int64_t kMockPartitionBytes = 5 * 1024 * 1024;

// Lifecycle: start() -> serve until destroyed. Clients connect to bootstrap(); the broker
// advertises the same address in its metadata, so no forwarder sits in between.
// Thread-safety: immutable after start(); the cluster runs on librdkafka's own thread.
class MockCluster {
 public:
  static Result<std::unique_ptr<MockCluster>> start(const BrokerParams& params);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  // Topics with their partition counts, as created.
  const std::vector<TopicSpec>& topics() const { return topics_; }

 private:
  MockCluster() = default;
  KafkaHandle rk_;  // the mock cluster belongs to this handle
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
  std::vector<TopicSpec> topics_;
};

}  // namespace kv::kafka
