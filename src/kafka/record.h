// Plain views of Kafka records, independent of librdkafka's structs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kafka/handles.h"
#include "wire/frame_headers.h"

namespace kv::kafka {

struct OutRecord {
  std::string topic;
  std::string key;
  std::span<const uint8_t> value;  // copied by produce()
  wire::Headers headers;
  int64_t timestamp_ms = 0;  // 0: let the client stamp it
};

// Copies the headers of a consumed message.
wire::Headers message_headers(const rd_kafka_message_t* msg);

inline std::span<const uint8_t> message_value(const rd_kafka_message_t* msg) {
  return {static_cast<const uint8_t*>(msg->payload), msg->len};
}
inline std::string_view message_key(const rd_kafka_message_t* msg) {
  return msg->key == nullptr ? std::string_view{}
                             : std::string_view(static_cast<const char*>(msg->key), msg->key_len);
}
inline std::string message_topic(const rd_kafka_message_t* msg) {
  return rd_kafka_topic_name(msg->rkt);
}

}  // namespace kv::kafka
