#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "kafka/handles.h"

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

// Checks that librdkafka accepts every property of `config` (an unknown name or a bad value is
// a kInvalidArgument error naming it), without creating a client.
Status validate(const KafkaConfig& config);

// Creates a client handle that takes ownership of `conf`, on success and on failure alike.
// `what` names the client in the error message.
Result<KafkaHandle> new_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf, const char* what);

}  // namespace kv::kafka
