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
#include "broker/txn_coordinator.h"
#include "common/result.h"

#include <fmt/format.h>

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
  TxnCoordinator& txns;
  const ServerParams& params;
  int port;
};

// Kafka error codes used here.
enum class KafkaError : int16_t {
  kNone = 0,
  kUnknownServerError = -1,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kInvalidTopic = 17,
  kUnsupportedVersion = 35,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidReplicationFactor = 38,
  kInvalidConfig = 40,
  kInvalidRequest = 42,
  kOutOfOrderSequence = 45,
  kInvalidProducerEpoch = 47,
  kInvalidTxnState = 48,
};

struct ApiRange {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
};
// The APIs and versions this broker implements (advertised in ApiVersions).
const std::vector<ApiRange>& supported_apis();

namespace handler_detail {
// Shared by the handler files: the response type and the start and end of a response.
using Response = Result<std::optional<std::vector<uint8_t>>>;

inline Error bad_request(const RequestHeader& h) {
  return make_error(ErrorCode::kDecode,
                    fmt::format("malformed request (api {} v{})", h.api_key, h.api_version));
}

inline Response finish(Writer& w) {
  return std::optional<std::vector<uint8_t>>(std::move(w.buffer()));
}

inline Writer start(const RequestHeader& h) {
  Writer w;
  w.i32(h.correlation_id);
  return w;
}

// Topics and their partitions, in the order a request named them.
using TopicPartitions = std::vector<std::pair<std::string, std::vector<int32_t>>>;

// The answer of a request about partitions that succeed or fail together (non-flexible
// versions): each topic with each of its partitions and the one error.
inline void write_partition_errors(Writer& w, const TopicPartitions& topics, int16_t error) {
  w.array_length(topics.size());
  for (const auto& [name, parts] : topics) {
    w.string(name);
    w.array_length(parts.size());
    for (int32_t p : parts) {
      w.i32(p);
      w.i16(error);
    }
  }
}

// The admin APIs (admin_handlers.cpp).
Response create_topics(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response delete_topics(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response describe_configs(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response alter_configs(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response incremental_alter_configs(HandlerContext& ctx, const RequestHeader& h, Reader& in);

// The consumer-group APIs (group_handlers.cpp).
Response join_group(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response sync_group(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response heartbeat(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response leave_group(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response offset_commit(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response offset_fetch(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response list_groups(HandlerContext& ctx, const RequestHeader& h);
Response describe_groups(HandlerContext& ctx, const RequestHeader& h, Reader& in);
// The transaction APIs (txn_handlers.cpp).
Response init_producer_id(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response add_partitions_to_txn(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response add_offsets_to_txn(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response txn_offset_commit(HandlerContext& ctx, const RequestHeader& h, Reader& in);
Response end_txn(HandlerContext& ctx, const RequestHeader& h, Reader& in);
}  // namespace handler_detail

// Decodes the request body from `in` and builds the full response frame (header included).
// nullopt: no response is sent. Error: the request could not be decoded.
Result<std::optional<std::vector<uint8_t>>> dispatch(HandlerContext& ctx, const RequestHeader& h,
                                                     Reader& in);

}  // namespace kv::broker
