#include "wire/detection_record.h"

#include <cmath>
#include <limits>
#include <stdexcept>

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

// Typed field access that rejects, rather than converts, values of the wrong kind or range:
// a float where an integer belongs, or a number outside the target type (both undefined
// behaviour in a plain conversion).
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T int_field(const json& obj, const char* key) {
  const json& v = obj.at(key);
  if (!v.is_number_integer()) throw FieldError(fmt::format("'{}' must be an integer", key));
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      throw FieldError(fmt::format("'{}' is out of range", key));
    }
    return static_cast<T>(u);
  }
  const auto i = v.get<int64_t>();
  if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      i > static_cast<int64_t>(std::numeric_limits<T>::max())) {
    throw FieldError(fmt::format("'{}' is out of range", key));
  }
  return static_cast<T>(i);
}

double number(const json& v, const char* key) {
  if (!v.is_number()) throw FieldError(fmt::format("'{}' must be a number", key));
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 1e30)
    throw FieldError(fmt::format("'{}' is out of range", key));
  return d;
}

double number_field(const json& obj, const char* key) {
  return number(obj.at(key), key);
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
    if (d.track_id > 0) dets.back()["track"] = d.track_id;
  }
  json j = {
      {"schema", kDetectionSchemaVersion},
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
  if (r.skipped_before > 0) j["skipped_before"] = r.skipped_before;
  return j.dump();
}

Result<DetectionRecord> decode_detection_record(std::string_view text) {
  // nlohmann throws on malformed input and on type mismatches; both become a kDecode error.
  try {
    const json j = json::parse(text);
    const int schema = int_field<int32_t>(j, "schema");
    if (schema < 1 || schema > kDetectionSchemaVersion) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("unsupported detection record schema {}", schema));
    }
    DetectionRecord r;
    r.frame.camera = j.at("camera").get<std::string>();
    r.frame.seq = int_field<int64_t>(j, "seq");
    r.frame.session_us = j.contains("session_us") ? int_field<int64_t>(j, "session_us") : 0;
    r.frame.stream_pos_ms = int_field<int64_t>(j, "pos_ms");
    r.frame.capture_us = int_field<int64_t>(j, "capture_us");
    r.frame.width = int_field<int32_t>(j, "width");
    r.frame.height = int_field<int32_t>(j, "height");
    const json& src = j.at("source");
    r.source.topic = src.at("topic").get<std::string>();
    r.source.partition = int_field<int32_t>(src, "partition");
    r.source.offset = int_field<int64_t>(src, "offset");
    r.model = j.at("model").get<std::string>();
    r.processed_us = int_field<int64_t>(j, "processed_us");
    if (j.contains("skipped_before")) r.skipped_before = int_field<int64_t>(j, "skipped_before");
    const json& t = j.at("timings_ms");
    r.timings.queue_ms = number_field(t, "queue");
    r.timings.decode_ms = number_field(t, "decode");
    r.timings.preprocess_ms = number_field(t, "preprocess");
    r.timings.infer_ms = number_field(t, "infer");
    r.timings.postprocess_ms = number_field(t, "postprocess");
    for (const json& d : j.at("detections")) {
      DetectedObject o;
      o.class_id = int_field<int32_t>(d, "class_id");
      o.label = d.at("label").get<std::string>();
      o.score = static_cast<float>(number_field(d, "score"));
      const json& b = d.at("box");
      if (!b.is_array() || b.size() != 4) {
        return make_error(ErrorCode::kDecode, "detection box must be [x, y, w, h]");
      }
      o.box = {static_cast<float>(number(b[0], "box")), static_cast<float>(number(b[1], "box")),
               static_cast<float>(number(b[2], "box")), static_cast<float>(number(b[3], "box"))};
      if (schema >= 2 && d.contains("track")) {
        o.track_id = int_field<int64_t>(d, "track");
        if (o.track_id < 1) throw FieldError("'track' must be >= 1");
      }
      r.detections.push_back(std::move(o));
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kDecode, fmt::format("bad detection record: {}", e.what()));
  } catch (const FieldError& e) {
    return make_error(ErrorCode::kDecode, fmt::format("bad detection record: {}", e.what()));
  }
}

}  // namespace kv::wire
