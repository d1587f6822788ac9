// kvision's topics on any cluster: created with a partition count, a replication factor and a
// min.insync.replicas that fit the cluster, and left as they are when they already exist.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/admin.h"
#include "kafka/config.h"

namespace kv::kafka {

// What a topic kvision creates gets (--partitions, --replication-factor,
// --min-insync-replicas). 0 means "fit the cluster".
struct TopicSettings {
  int partitions = 4;
  int replication_factor = 0;   // 0: min(3, brokers)
  int min_insync_replicas = 0;  // 0: min(2, replication factor)
};

// The settings made concrete for a cluster of `brokers` brokers, or a kInvalidArgument error
// that says why the cluster cannot satisfy them (e.g. a replication factor of 3 on 1 broker).
struct ResolvedTopicSettings {
  int partitions = 0;
  int replication_factor = 0;
  int min_insync_replicas = 0;
};
Result<ResolvedTopicSettings> resolve_topic_settings(const TopicSettings& wanted, int brokers);

// Creates each of `names` that does not exist yet; topics that exist are kept as they are (a
// warning says so where their replication factor is below what was asked for). Waits until the
// metadata shows every topic, so that producers and consumers started next find it.
// `configs` go to every topic this call creates (e.g. retention.ms).
Status ensure_topics(const KafkaConfig& config, const std::vector<std::string>& names,
                     const TopicSettings& settings, int timeout_ms = 30000,
                     const std::map<std::string, std::string>& configs = {});

}  // namespace kv::kafka
