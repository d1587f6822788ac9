// Request handlers of the durable broker, one function per Kafka API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/group_coordinator.h"
#include "broker/protocol.h"
#include "broker/server.h"
#include "broker/topic_store.h"

namespace kv::broker {

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
};

struct HandlerContext {
  TopicStore& store;
  GroupCoordinator& groups;
  const ServerParams& params;
  int port;
};

// Kafka error codes used here.
enum class KafkaError : int16_t {
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kInvalidTopic = 17,
  kUnsupportedVersion = 35,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidRequest = 42,
  kOutOfOrderSequence = 45,
  kInvalidProducerEpoch = 47,
};

struct ApiRange {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
};
// The APIs and versions this broker implements (advertised in ApiVersions).
const std::vector<ApiRange>& supported_apis();

// Decodes the request body from `in` and builds the full response frame (header included).
// nullopt: no response is sent. Error: the request could not be decoded.
Result<std::optional<std::vector<uint8_t>>> dispatch(HandlerContext& ctx, const RequestHeader& h,
                                                     Reader& in);

}  // namespace kv::broker
