// Cluster administration through librdkafka's Admin API: topics, their configs, consumer groups
// and their committed offsets. Works against any Kafka-protocol cluster (the embedded broker,
// Apache Kafka, Redpanda).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/handles.h"

namespace kv::kafka {

struct GroupListing {
  std::string group_id;
  std::string state;  // "Stable", "Empty", "PreparingRebalance", ...
};

struct GroupMember {
  std::string member_id;
  std::string client_id;
  std::string host;
  std::vector<std::pair<std::string, int32_t>> assignment;  // (topic, partition)
};

struct GroupDescription {
  std::string group_id;
  std::string state;
  std::string assignor;  // the partition assignor the members agreed on ("range", ...)
  std::vector<GroupMember> members;
};

// What the cluster's metadata says: its brokers and, for each topic, partitions and replicas.
struct TopicLayout {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;  // replicas of partition 0
};
struct ClusterLayout {
  std::vector<int32_t> brokers;  // ids of the brokers that are up
  std::map<std::string, TopicLayout> topics;
};

// Thread-safety: one thread at a time. Every call waits up to timeout_ms; errors name the call,
// the object and librdkafka's reason (for example UNKNOWN_TOPIC_OR_PART, INVALID_CONFIG).
class Admin {
 public:
  static Result<std::unique_ptr<Admin>> create(const KafkaConfig& config);

  // A topic with `partitions` (-1: the broker's default), `replication_factor` replicas of each
  // (-1: the broker's default) and topic configs.
  Status create_topic(const std::string& name, int partitions,
                      const std::map<std::string, std::string>& configs, int timeout_ms,
                      int replication_factor = -1);
  // The brokers that are up and every topic's partitions and replication factor. A failed
  // SASL authentication or TLS handshake ends the wait at once with an error that says so (a
  // wrong password or an untrusted certificate is not worth waiting out the timeout).
  Result<ClusterLayout> layout(int timeout_ms);
  Status delete_topic(const std::string& name, int timeout_ms);
  // Every config of a topic with its current value.
  Result<std::map<std::string, std::string>> topic_configs(const std::string& name, int timeout_ms);

  Result<std::vector<GroupListing>> list_groups(int timeout_ms);
  Result<GroupDescription> describe_group(const std::string& group_id, int timeout_ms);
  // The group's committed offsets on the given partitions: (topic, partition) -> next offset
  // to consume; partitions without a commit are left out. Read through a consumer handle of the
  // group that never joins it (one per group, kept): librdkafka's ListConsumerGroupOffsets
  // crashes the process when the coordinator answers NOT_COORDINATOR, as Kafka does while a
  // group's coordinator moves to another broker (librdkafka issue #5040).
  using Partitions = std::vector<std::pair<std::string, int32_t>>;
  Result<std::map<std::pair<std::string, int32_t>, int64_t>> committed_offsets(
      const std::string& group_id, const Partitions& partitions, int timeout_ms);
  // Commits these offsets for the group, as a member outside any generation may (the group
  // must have no active members, or Kafka refuses). Used to start a new group at chosen
  // offsets (kvision replay).
  Status commit_offsets(const std::string& group_id,
                        const std::map<std::pair<std::string, int32_t>, int64_t>& offsets);

 private:
  Admin() = default;
  static void on_error(rd_kafka_s* rk, int err, const char* reason, void* opaque);
  std::optional<Error> refused() const;

  KafkaConfig config_;
  mutable std::mutex mu_;
  std::optional<Error> refused_;  // a SASL or TLS failure seen by librdkafka's threads
  KafkaHandle rk_;
  std::map<std::string, KafkaHandle> group_readers_;  // group id -> consumer handle
};

// Whether the cluster answers within timeout_ms; refused credentials or a failed TLS handshake
// are reported at once (see Admin::layout).
Status check_cluster(const KafkaConfig& config, int timeout_ms);

}  // namespace kv::kafka
