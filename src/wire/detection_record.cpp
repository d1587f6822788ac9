#include "wire/detection_record.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kv::wire {
namespace {

using nlohmann::json;

// Rounds to a fixed number of decimals so records stay compact and stable.
double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

}  // namespace

std::string encode_detection_record(const DetectionRecord& r) {
  json dets = json::array();
  for (const DetectedObject& d : r.detections) {
    dets.push_back({{"class_id", d.class_id},
                    {"label", d.label},
                    {"score", round_to(d.score, 4)},
                    {"box",
                     {round_to(d.box.x, 1), round_to(d.box.y, 1), round_to(d.box.w, 1),
                      round_to(d.box.h, 1)}}});
  }
  const json j = {
      {"schema", kSchemaVersion},
      {"camera", r.frame.camera},
      {"seq", r.frame.seq},
      {"session_us", r.frame.session_us},
      {"pos_ms", r.frame.stream_pos_ms},
      {"capture_us", r.frame.capture_us},
      {"width", r.frame.width},
      {"height", r.frame.height},
      {"source",
       {{"topic", r.source.topic}, {"partition", r.source.partition}, {"offset", r.source.offset}}},
      {"model", r.model},
      {"processed_us", r.processed_us},
      {"timings_ms",
       {{"queue", round_to(r.timings.queue_ms, 3)},
        {"decode", round_to(r.timings.decode_ms, 3)},
        {"preprocess", round_to(r.timings.preprocess_ms, 3)},
        {"infer", round_to(r.timings.infer_ms, 3)},
        {"postprocess", round_to(r.timings.postprocess_ms, 3)}}},
      {"detections", std::move(dets)},
  };
  return j.dump();
}

Result<DetectionRecord> decode_detection_record(std::string_view text) {
  // nlohmann throws on malformed input and on type mismatches; both become a kDecode error.
  try {
    const json j = json::parse(text);
    const int schema = j.at("schema").get<int>();
    if (schema < 1 || schema > kSchemaVersion) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("unsupported detection record schema {}", schema));
    }
    DetectionRecord r;
    r.frame.camera = j.at("camera").get<std::string>();
    r.frame.seq = j.at("seq").get<int64_t>();
    r.frame.session_us = j.value("session_us", int64_t{0});
    r.frame.stream_pos_ms = j.at("pos_ms").get<int64_t>();
    r.frame.capture_us = j.at("capture_us").get<int64_t>();
    r.frame.width = j.at("width").get<int32_t>();
    r.frame.height = j.at("height").get<int32_t>();
    const json& src = j.at("source");
    r.source.topic = src.at("topic").get<std::string>();
    r.source.partition = src.at("partition").get<int32_t>();
    r.source.offset = src.at("offset").get<int64_t>();
    r.model = j.at("model").get<std::string>();
    r.processed_us = j.at("processed_us").get<int64_t>();
    const json& t = j.at("timings_ms");
    r.timings.queue_ms = t.at("queue").get<double>();
    r.timings.decode_ms = t.at("decode").get<double>();
    r.timings.preprocess_ms = t.at("preprocess").get<double>();
    r.timings.infer_ms = t.at("infer").get<double>();
    r.timings.postprocess_ms = t.at("postprocess").get<double>();
    for (const json& d : j.at("detections")) {
      DetectedObject o;
      o.class_id = d.at("class_id").get<int>();
      o.label = d.at("label").get<std::string>();
      o.score = d.at("score").get<float>();
      const json& b = d.at("box");
      if (!b.is_array() || b.size() != 4) {
        return make_error(ErrorCode::kDecode, "detection box must be [x, y, w, h]");
      }
      o.box = {b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>()};
      r.detections.push_back(std::move(o));
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kDecode, fmt::format("bad detection record: {}", e.what()));
  }
}

}  // namespace kv::wire
