#include "wire/camera_health.h"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json.h"

namespace kv::wire {
namespace {
constexpr std::array<std::string_view, 5> kNames = {"UP", "RECONNECTING", "DOWN", "FINISHED",
                                                    "REMOVED"};
}  // namespace

std::string_view camera_state_name(CameraState s) {
  return kNames[static_cast<size_t>(s)];
}

Result<CameraState> parse_camera_state(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<CameraState>(i);
  }
  return make_error(ErrorCode::kDecode, fmt::format("unknown camera state '{}'", name));
}

std::string encode_camera_health(const CameraHealth& h) {
  nlohmann::json j = {{"camera", h.camera},         {"state", camera_state_name(h.state)},
                      {"source", h.source},         {"reason", h.reason},
                      {"since_us", h.since_us},     {"last_frame_us", h.last_frame_us},
                      {"frames", h.frames},         {"reconnects", h.reconnects},
                      {"updated_us", h.updated_us}, {"host", h.host}};
  return json_line(j);
}

Result<CameraHealth> decode_camera_health(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::kDecode, "camera health record is not a JSON object");
  }
  CameraHealth h;
  try {
    h.camera = j.at("camera").get<std::string>();
    auto state = parse_camera_state(j.at("state").get<std::string>());
    if (!state) return state.error();
    h.state = *state;
    h.source = j.value("source", "");
    h.reason = j.value("reason", "");
    h.since_us = j.value("since_us", int64_t{0});
    h.last_frame_us = j.value("last_frame_us", int64_t{0});
    h.frames = j.value("frames", int64_t{0});
    h.reconnects = j.value("reconnects", int64_t{0});
    h.updated_us = j.value("updated_us", int64_t{0});
    h.host = j.value("host", "");
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kDecode, fmt::format("camera health record: {}", e.what()));
  }
  if (h.camera.empty()) return make_error(ErrorCode::kDecode, "camera health record: no camera");
  return h;
}

}  // namespace kv::wire
