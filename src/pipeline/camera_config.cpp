#include "pipeline/camera_config.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace kv::pipeline {
namespace {

// One key of a camera entry: how it is read into the parameters.
struct Key {
  const char* name;
  const char* what;                                           // the expected value, for messages
  std::function<bool(const YAML::Node&, IngestParams&)> set;  // false: a bad value
};

template <typename T>
bool read_as(const YAML::Node& n, T& out) {
  if (!n.IsScalar()) return false;
  try {
    out = n.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

template <typename T>
std::function<bool(const YAML::Node&, IngestParams&)> number(T IngestParams::*field, T lo, T hi) {
  return [field, lo, hi](const YAML::Node& n, IngestParams& p) {
    T v{};
    if (!read_as(n, v) || v < lo || v > hi) return false;
    p.*field = v;
    return true;
  };
}

const std::vector<Key>& camera_keys() {
  static const std::vector<Key> keys = {
      {"id", "a non-empty name",
       [](const YAML::Node& n, IngestParams& p) {
         return read_as(n, p.camera) && !p.camera.empty();
       }},
      {"source", "a file, image folder, /dev/videoN or stream URL",
       [](const YAML::Node& n, IngestParams& p) {
         return read_as(n, p.source) && !p.source.empty();
       }},
      {"fps", "a number >= 0", number(&IngestParams::fps, 0.0, 1000.0)},
      {"realtime", "true or false",
       [](const YAML::Node& n, IngestParams& p) { return read_as(n, p.realtime); }},
      {"rate", "a number >= 0", number(&IngestParams::rate, 0.0, 1000.0)},
      {"jpeg_quality", "an integer 1..100", number(&IngestParams::jpeg_quality, 1, 100)},
      {"max_frames", "an integer >= 0", number(&IngestParams::max_frames, int64_t{0}, INT64_MAX)},
      {"reconnect", "an integer 0..1000 (retries before DOWN)",
       number(&IngestParams::reconnect_attempts, 0, 1000)},
      {"timeout_ms", "an integer 100..600000", number(&IngestParams::io_timeout_ms, 100, 600000)},
      {"stale_after_ms", "an integer -1..86400000",
       number(&IngestParams::stale_after_ms, int64_t{-1}, int64_t{86'400'000})},
      {"max_lag", "an integer >= 0", number(&IngestParams::max_lag, int64_t{0}, INT64_MAX)},
  };
  return keys;
}

std::string known_keys(bool with_identity) {
  std::string out;
  for (const Key& k : camera_keys()) {
    const std::string_view name = k.name;
    if (!with_identity && (name == "id" || name == "source")) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Error at(const std::string& file, const YAML::Node& n, const std::string& message) {
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("{}:{}: {}", file, n.Mark().line + 1, message));
}

// Applies the keys of one mapping (a camera, or the defaults) to `p`.
Status apply_keys(const YAML::Node& map, const std::string& file, const std::string& where,
                  bool identity, IngestParams& p) {
  if (!map.IsMap()) return at(file, map, fmt::format("{} must be a mapping of keys", where));
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    const auto it = std::find_if(camera_keys().begin(), camera_keys().end(),
                                 [&](const Key& k) { return key == k.name; });
    const bool allowed =
        it != camera_keys().end() && (identity || (key != "id" && key != "source"));
    if (!allowed) {
      return at(
          file, kv.first,
          fmt::format("unknown key '{}' in {} (known: {})", key, where, known_keys(identity)));
    }
    if (!it->set(kv.second, p)) {
      return at(file, kv.second,
                fmt::format("{}: {} must be {}, not '{}'", where, key, it->what,
                            kv.second.IsScalar() ? kv.second.Scalar() : "a list or mapping"));
    }
  }
  return ok_status();
}

}  // namespace

Result<std::vector<IngestParams>> parse_cameras(std::string_view yaml, const std::string& name,
                                                const IngestParams& base) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}:{}: not valid YAML: {}", name, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: expected a mapping with a 'cameras' list", name));
  }
  IngestParams defaults = base;
  YAML::Node cameras;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key == "defaults") {
      if (Status s = apply_keys(kv.second, name, "defaults", false, defaults); !s) return s.error();
    } else if (key == "cameras") {
      cameras = kv.second;
    } else {
      return at(name, kv.first, fmt::format("unknown key '{}' (known: cameras, defaults)", key));
    }
  }
  if (!cameras || !cameras.IsSequence()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: 'cameras' must be a list of cameras", name));
  }
  std::vector<IngestParams> out;
  std::set<std::string> ids;
  for (size_t i = 0; i < cameras.size(); ++i) {
    const YAML::Node entry = cameras[i];
    IngestParams p = defaults;
    p.camera.clear();
    p.source.clear();
    const std::string where = fmt::format("camera #{}", i + 1);
    if (Status s = apply_keys(entry, name, where, true, p); !s) return s.error();
    if (p.camera.empty()) return at(name, entry, fmt::format("{} has no id", where));
    if (p.source.empty())
      return at(name, entry, fmt::format("camera '{}' has no source", p.camera));
    if (!ids.insert(p.camera).second)
      return at(name, entry, fmt::format("camera id '{}' appears twice", p.camera));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<IngestParams>> load_cameras(const std::string& path, const IngestParams& base) {
  std::ifstream in(path);
  if (!in) {
    return make_error(ErrorCode::kNotFound, fmt::format("cannot read the cameras file '{}'", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_cameras(text.str(), path, base);
}

bool same_camera_settings(const IngestParams& a, const IngestParams& b) {
  auto key = [](const IngestParams& p) {
    return std::tie(p.camera, p.source, p.fps, p.realtime, p.rate, p.jpeg_quality, p.max_frames,
                    p.reconnect_attempts, p.io_timeout_ms, p.stale_after_ms, p.max_lag, p.topic,
                    p.keep_trying, p.lag_group);
  };
  return key(a) == key(b);
}

CameraChanges diff_cameras(const std::vector<IngestParams>& before,
                           const std::vector<IngestParams>& after) {
  std::map<std::string, const IngestParams*> old;
  for (const auto& p : before) old[p.camera] = &p;
  CameraChanges c;
  std::set<std::string> kept;
  for (const auto& p : after) {
    auto it = old.find(p.camera);
    if (it == old.end()) {
      c.added.push_back(p.camera);
    } else {
      kept.insert(p.camera);
      (same_camera_settings(*it->second, p) ? c.unchanged : c.changed).push_back(p.camera);
    }
  }
  for (const auto& p : before) {
    if (kept.count(p.camera) == 0) c.removed.push_back(p.camera);
  }
  return c;
}

}  // namespace kv::pipeline
