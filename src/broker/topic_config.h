// Per-topic configuration: the Kafka topic configs this broker implements, their validation,
// their description for DescribeConfigs, and their storage beside the topic's logs.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/partition_log.h"
#include "common/result.h"

namespace kv::broker {

// Overrides set on one topic, by Kafka name ("retention.ms" -> "60000").
using TopicOverrides = std::map<std::string, std::string>;

// Implemented topic configs: retention.ms, retention.bytes, segment.bytes, flush.ms and
// cleanup.policy ("delete", "compact" or both, comma-separated as in Kafka). Any other name, or a
// value out of range, is an error whose message names the config and the reason.
Status validate_override(const std::string& name, const std::string& value);

struct CleanupPolicy {
  bool compact;
  bool remove;  // "delete": retention by time and size
};
// nullopt for anything but a comma-separated list of "compact" and "delete".
std::optional<CleanupPolicy> parse_cleanup_policy(const std::string& value);

// `defaults` with the overrides applied. The overrides must have been validated.
LogConfig apply_overrides(const LogConfig& defaults, const TopicOverrides& overrides);

struct ConfigEntry {
  std::string name;
  std::string value;
  bool is_default;  // false: set on the topic
};
// Every implemented config of a topic with its effective value, in name order.
std::vector<ConfigEntry> describe_topic_config(const LogConfig& defaults,
                                               const TopicOverrides& overrides);
// The broker-level defaults under Kafka's broker config names (log.retention.ms, ...).
std::vector<ConfigEntry> describe_broker_config(const LogConfig& defaults, int default_partitions);

// `<data-dir>/<topic>.config`: one name=value line per override. A missing file means none.
std::filesystem::path topic_config_path(const std::filesystem::path& data_dir,
                                        const std::string& topic);
Result<TopicOverrides> load_overrides(const std::filesystem::path& path);
Status save_overrides(const std::filesystem::path& path, const TopicOverrides& overrides);

}  // namespace kv::broker
