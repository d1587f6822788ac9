#include "pipeline/result_record.h"

#include <fmt/format.h>

#include "wire/topics.h"

namespace kv::pipeline {

Result<std::string> detection_json(const kafka::Message& msg) {
  if (msg.topic() == wire::kProcessedTopic) {
    const wire::Headers headers = msg.headers();
    const std::string* json = wire::find_header(headers, wire::kHdrDetections);
    if (json == nullptr)
      return make_error(ErrorCode::kDecode, fmt::format("no '{}' header", wire::kHdrDetections));
    return *json;
  }
  return std::string(msg.value_text());
}

Result<wire::DetectionRecord> detection_record(const kafka::Message& msg) {
  auto json = detection_json(msg);
  if (!json) return json.error();
  return wire::decode_detection_record(*json);
}

}  // namespace kv::pipeline
