#include "store/query_text.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/json.h"
#include "store/frame_files.h"

namespace kv::store {

Result<int64_t> parse_time(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || ms > std::numeric_limits<int64_t>::max() / 1000) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("bad time '{}': milliseconds out of range", text));
    }
    return ms * 1000;
  }
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || (*end != '\0' && *end != 'Z' && *end != '.')) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("bad time '{}': use 2026-11-25T02:31:04Z or milliseconds "
                                  "since the epoch",
                                  text));
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000000;
}

Result<std::vector<Point>> parse_zone(const std::string& text) {
  std::vector<Point> zone;
  std::istringstream in(text);
  std::string pair;
  while (in >> pair) {
    Point p;
    char comma = 0;
    std::istringstream ps(pair);
    if (!(ps >> p.x >> comma >> p.y) || comma != ',' || !ps.eof()) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("bad zone point '{}': use \"x,y x,y x,y ...\"", pair));
    }
    zone.push_back(p);
  }
  if (zone.size() < 3)
    return make_error(ErrorCode::kInvalidArgument, "a zone needs at least 3 points");
  return zone;
}

Result<Query> query_from_params(const std::map<std::string, std::string>& params) {
  Query q;
  auto bad = [](const std::string& name, const std::string& value, const char* expected) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("bad {} '{}': expected {}", name, value, expected));
  };
  for (const auto& [name, value] : params) {
    if (value.empty() && name != "normalised") continue;
    if (name == "camera") {
      q.camera = value;
    } else if (name == "label") {
      q.label = value;
    } else if (name == "track") {
      int64_t id = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
      if (ec != std::errc() || p != value.data() + value.size() || id < 1)
        return bad(name, value, "a track ID, a whole number >= 1");
      q.track = id;
    } else if (name == "from" || name == "to") {
      auto t = parse_time(value);
      if (!t) return t.error();
      (name == "from" ? q.from_us : q.to_us) = *t;
    } else if (name == "min_score") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), q.min_score);
      if (ec != std::errc() || p != value.data() + value.size() || q.min_score < 0 ||
          q.min_score > 1)
        return bad(name, value, "a number from 0 to 1");
    } else if (name == "zone") {
      auto z = parse_zone(value);
      if (!z) return z.error();
      q.zone = *z;
    } else if (name == "normalised") {
      q.zone_normalised = value.empty() || value == "1" || value == "true";
    } else if (name == "limit") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), q.limit);
      if (ec != std::errc() || p != value.data() + value.size() || q.limit < 1 || q.limit > 100000)
        return bad(name, value, "a whole number from 1 to 100000");
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("unknown parameter '{}' (camera, label, track, from, to, "
                                    "min_score, zone, normalised, limit)",
                                    name));
    }
  }
  return q;
}

namespace {
// Floats as people read them: 0.809 rather than 0.808899998664856.
double round_to(float v, double scale) {
  return std::round(static_cast<double>(v) * scale) / scale;
}
}  // namespace

std::string stored_detection_json(const StoredDetection& d, const std::string& frames_dir) {
  nlohmann::json j{{"camera", d.frame.camera},
                   {"time", format_wall_time(d.frame.capture_us)},
                   {"capture_us", d.frame.capture_us},
                   {"session_us", d.frame.session_us},
                   {"seq", d.frame.seq},
                   {"label", d.object.label},
                   {"score", round_to(d.object.score, 1000)},
                   {"box",
                    {round_to(d.object.box.x, 10), round_to(d.object.box.y, 10),
                     round_to(d.object.box.w, 10), round_to(d.object.box.h, 10)}},
                   {"frame",
                    {{"topic", d.source.topic},
                     {"partition", d.source.partition},
                     {"offset", d.source.offset},
                     {"width", d.frame.width},
                     {"height", d.frame.height}}}};
  if (d.object.track_id > 0) j["track"] = d.object.track_id;
  if (!frames_dir.empty()) {
    const std::string file =
        frame_file(frames_dir, d.frame.camera, d.frame.session_us, d.frame.seq);
    if (::access(file.c_str(), R_OK) == 0) j["jpeg"] = file;
  }
  return json_line(j);
}

std::string track_summary_json(const TrackSummary& t) {
  nlohmann::json path = nlohmann::json::array();
  for (const Point& p : t.path) path.push_back({std::round(p.x), std::round(p.y)});
  nlohmann::json j{
      {"camera", t.camera},
      {"session_us", t.session_us},
      {"track", t.track},
      {"label", t.label},
      {"first", format_wall_time(t.first_us)},
      {"last", format_wall_time(t.last_us)},
      {"first_us", t.first_us},
      {"last_us", t.last_us},
      {"duration_s", std::round(static_cast<double>(t.last_us - t.first_us) / 1e3) / 1e3},
      {"detections", t.detections},
      {"path", std::move(path)},
      {"frame",
       {{"seq", t.first.frame.seq},
        {"topic", t.first.source.topic},
        {"partition", t.first.source.partition},
        {"offset", t.first.source.offset}}}};
  return json_line(j);
}

}  // namespace kv::store
