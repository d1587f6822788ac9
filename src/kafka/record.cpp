#include "kafka/record.h"
#include "kafka/client.h"

#include <fmt/format.h>

#include <librdkafka/rdkafka.h>

namespace kv::kafka {

std::string_view Message::topic() const {
  return rd_kafka_topic_name(raw_->rkt);
}

int32_t Message::partition() const {
  return raw_->partition;
}

int64_t Message::offset() const {
  return raw_->offset;
}

std::string_view Message::key() const {
  return raw_->key == nullptr
             ? std::string_view{}
             : std::string_view(static_cast<const char*>(raw_->key), raw_->key_len);
}

int64_t Message::timestamp_ms() const {
  return rd_kafka_message_timestamp(raw_.get(), nullptr);
}

std::span<const uint8_t> Message::value() const {
  return {static_cast<const uint8_t*>(raw_->payload), raw_->len};
}

std::string_view Message::value_text() const {
  return {static_cast<const char*>(raw_->payload), raw_->len};
}

size_t Message::size() const {
  return raw_->len;
}

wire::Headers Message::headers() const {
  wire::Headers out;
  rd_kafka_headers_t* hdrs = nullptr;
  // The headers stay owned by the message.
  if (rd_kafka_message_headers(raw_.get(), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || hdrs == nullptr)
    return out;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0;
       rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.emplace_back(name, value == nullptr ? std::string()
                                            : std::string(static_cast<const char*>(value), size));
  }
  return out;
}

std::string Message::where() const {
  return fmt::format("{}[{}]@{}", topic(), partition(), offset());
}

}  // namespace kv::kafka
