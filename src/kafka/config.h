#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

using rd_kafka_conf_t = struct rd_kafka_conf_s;

namespace kv::kafka {

using Property = std::pair<std::string, std::string>;
using Properties = std::vector<Property>;

// How to reach the cluster: the same two flags on every Kafka-facing command.
struct KafkaConfig {
  std::string brokers = "127.0.0.1:9092";  // --brokers: bootstrap.servers
  Properties overrides;                    // -X key=value, applied last
};

// Parses "key=value" as given to -X.
Result<Property> parse_property(const std::string& text);

// Builds a librdkafka configuration: bootstrap servers, then `defaults`, then the user's
// overrides. An unknown property or a bad value is a kInvalidArgument error naming it.
// The caller owns the returned conf (pass it to rd_kafka_new or destroy it).
Result<rd_kafka_conf_t*> make_conf(const KafkaConfig& config, const Properties& defaults);

}  // namespace kv::kafka
