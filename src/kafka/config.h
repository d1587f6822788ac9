#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kv::kafka {

using Property = std::pair<std::string, std::string>;
using Properties = std::vector<Property>;

// How to reach the cluster: the same two flags on every Kafka-facing command.
struct KafkaConfig {
  std::string brokers = "127.0.0.1:9092";  // --brokers: bootstrap.servers
  Properties overrides;                    // -X key=value, applied last
};

// Whether a librdkafka property holds a secret (passwords, keys, OAuth settings): its value
// is never printed.
bool is_secret_property(const std::string& key);

// Parses "key=value" as given to -X.
Result<Property> parse_property(const std::string& text);

// Checks that librdkafka accepts every property of `config` (an unknown name or a bad value is
// a kInvalidArgument error naming it), without creating a client.
Status validate(const KafkaConfig& config);

}  // namespace kv::kafka
