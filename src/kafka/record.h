// Kafka records as kvision sees them: what it produces (OutRecord) and what it consumes
// (Message), with no librdkafka type in sight.
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
  int32_t partition = -1;    // -1: chosen by the key (the client's partitioner)
};

// One consumed record. It owns the client's copy, so the views it hands out stay valid for
// as long as it lives. Move-only; an empty Message (no record) converts to false.
class Message {
 public:
  Message() = default;
  explicit Message(rd_kafka_message_s* raw) : raw_(raw) {}

  explicit operator bool() const { return raw_ != nullptr; }

  std::string_view topic() const;
  int32_t partition() const;
  int64_t offset() const;
  std::string_view key() const;
  // The record's timestamp (CreateTime: for frames, their capture time), ms since the epoch;
  // -1 if it has none.
  int64_t timestamp_ms() const;
  std::span<const uint8_t> value() const;
  std::string_view value_text() const;  // the value as bytes of text (JSON records)
  size_t size() const;                  // the value's size
  wire::Headers headers() const;        // copied
  // "topic[partition]@offset", for messages about the record.
  std::string where() const;

 private:
  MessagePtr raw_;
};

}  // namespace kv::kafka
