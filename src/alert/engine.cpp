#include "alert/engine.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/json.h"

namespace kv::alert {
namespace {

bool per_track_condition(Condition c) {
  return c != Condition::kPresent && c != Condition::kCount;
}

// Where the object stands (bottom centre of its box), in the rule's units. False when the
// rule is normalised and the frame's size is unknown.
bool foot_of(const Rule& rule, const wire::DetectedObject& o, const wire::FrameMeta& f,
             Point& out) {
  out = {o.box.x + o.box.w / 2.0, static_cast<double>(o.box.y) + o.box.h};
  if (!rule.normalised) return true;
  if (f.width <= 0 || f.height <= 0) return false;
  out.x /= f.width;
  out.y /= f.height;
  return true;
}

bool moves_along(Direction d, Point from, Point to) {
  switch (d) {
    case Direction::kAny:
      return true;
    case Direction::kUp:
      return to.y < from.y;
    case Direction::kDown:
      return to.y > from.y;
    case Direction::kLeft:
      return to.x < from.x;
    case Direction::kRight:
      return to.x > from.x;
  }
  return false;
}

double tenths(float v) {
  return std::round(static_cast<double>(v) * 10) / 10;
}

}  // namespace

std::optional<AlertClip> alert_clip(const Alert& a) {
  if (a.rule == nullptr || !a.rule->wants_clip()) return std::nullopt;
  AlertClip c;
  c.camera = a.frame.camera;
  c.from_ms = (a.frame.capture_us - a.rule->clip_before_us) / 1000;
  c.to_ms = (a.frame.capture_us + a.rule->clip_after_us) / 1000;
  for (const char ch : a.id) {
    const bool plain = std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_';
    c.file += plain ? ch : '_';
  }
  c.file += ".mp4";
  return c;
}

std::string alert_json(const Alert& a) {
  nlohmann::json dets = nlohmann::json::array();
  for (const wire::DetectedObject& d : a.detections) {
    dets.push_back({{"label", d.label},
                    {"score", std::round(static_cast<double>(d.score) * 1000) / 1000},
                    {"box", {tenths(d.box.x), tenths(d.box.y), tenths(d.box.w), tenths(d.box.h)}}});
    if (d.track_id > 0) dets.back()["track"] = d.track_id;
  }
  nlohmann::json j = {
      {"id", a.id},
      {"rule", a.rule->name},
      {"when", a.rule->when},
      {"camera", a.frame.camera},
      {"time", format_wall_time(a.frame.capture_us)},
      {"capture_us", a.frame.capture_us},
      {"frame",
       {{"session_us", a.frame.session_us},
        {"seq", a.frame.seq},
        {"width", a.frame.width},
        {"height", a.frame.height},
        {"topic", a.source.topic},
        {"partition", a.source.partition},
        {"offset", a.source.offset}}},
      {"detections", std::move(dets)},
  };
  if (auto clip = alert_clip(a)) {
    j["clip"] = {{"file", clip->file},
                 {"from", format_wall_time(clip->from_ms * 1000)},
                 {"to", format_wall_time(clip->to_ms * 1000)}};
  }
  return json_line(j);
}

bool Engine::cooled_down(const Rule& rule, const State& state, int64_t now_us) {
  if (!state.fired_once || now_us - state.last_fired_us >= rule.cooldown_us) return true;
  ++stats_.suppressed;
  return false;
}

std::vector<wire::DetectedObject> Engine::per_track(
    const Rule& rule, State& state, const std::vector<wire::DetectedObject>& objects,
    const wire::FrameMeta& frame) {
  std::vector<wire::DetectedObject> out;
  if (rule.condition == Condition::kDistinct) {
    const int64_t window = frame.capture_us / rule.window_us;
    if (window != state.window) {
      state.window = window;
      state.window_ids.clear();
      state.window_fired = false;
    }
  }
  std::vector<const wire::DetectedObject*> in_zone;
  for (const wire::DetectedObject& o : objects) {
    Point foot;
    if (o.track_id <= 0 || !foot_of(rule, o, frame, foot)) continue;
    const bool in = rule.zone.empty() || inside(rule.zone, foot);
    Seen& seen = state.objects[o.track_id];
    const int was = seen.inside;
    seen.inside = in ? 1 : 0;
    seen.last_seen_us = frame.capture_us;
    if (in) in_zone.push_back(&o);
    switch (rule.condition) {
      case Condition::kCrosses: {
        if (!in) break;  // outside the rule's zone
        // A foot exactly on the line is on neither side: the crossing is judged from the last
        // position off it, so touching the line and going back is not a crossing.
        const double after = side_of(rule.line_a, rule.line_b, foot);
        if (after == 0) break;
        if (seen.has_anchor && !seen.crossed &&
            (side_of(rule.line_a, rule.line_b, seen.anchor) > 0) != (after > 0) &&
            segments_cross(seen.anchor, foot, rule.line_a, rule.line_b) &&
            moves_along(rule.direction, seen.anchor, foot)) {
          seen.crossed = true;  // once per object
          out.push_back(o);
        }
        seen.anchor = foot;
        seen.has_anchor = true;
        break;
      }
      case Condition::kEnters:
        if (was == 0 && in) out.push_back(o);
        break;
      case Condition::kLeaves:
        if (was == 1 && !in) out.push_back(o);
        break;
      case Condition::kDwell:
        if (!in) {
          seen.dwell_fired = false;  // the stay is over
          break;
        }
        if (was != 1) seen.inside_since_us = frame.capture_us;
        if (!seen.dwell_fired && frame.capture_us - seen.inside_since_us >= rule.dwell_us) {
          seen.dwell_fired = true;
          out.push_back(o);
        }
        break;
      case Condition::kDistinct:
        if (in) state.window_ids.insert(o.track_id);
        break;
      case Condition::kPresent:
      case Condition::kCount:
        break;
    }
  }
  if (rule.condition == Condition::kDistinct && !state.window_fired &&
      static_cast<int>(state.window_ids.size()) >= rule.min_count) {
    state.window_fired = true;
    for (const wire::DetectedObject* o : in_zone) out.push_back(*o);
  }
  // An object unseen this long (capture time) is gone: its next appearance starts afresh.
  constexpr int64_t kForgetUs = 10'000'000;
  std::erase_if(state.objects, [&](const auto& entry) {
    return frame.capture_us - entry.second.last_seen_us > kForgetUs;
  });
  return out;
}

std::vector<Alert> Engine::process(const wire::DetectionRecord& record) {
  const wire::FrameMeta& f = record.frame;
  CameraClock& clock = clocks_[f.camera];
  const bool new_session = clock.session_us != f.session_us;
  if (!new_session && f.seq <= clock.seq) {
    ++stats_.stale;
    return {};
  }
  clock = {f.session_us, f.seq};
  ++stats_.frames;
  std::vector<Alert> alerts;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (!rule.cameras.empty() &&
        std::find(rule.cameras.begin(), rule.cameras.end(), f.camera) == rule.cameras.end()) {
      continue;
    }
    State& state = states_[{i, f.camera}];
    if (new_session) {  // a new run of the camera: nothing carries over but the cooldown
      state.streak_frames = 0;
      state.objects.clear();
      state.window = -1;
    }
    std::vector<wire::DetectedObject> matched;
    for (const wire::DetectedObject& d : record.detections) {
      if (d.score < rule.min_score ||
          std::find(rule.labels.begin(), rule.labels.end(), d.label) == rule.labels.end()) {
        continue;
      }
      Point foot;
      // Per-track conditions look at objects outside the zone too (enters, leaves).
      if (!per_track_condition(rule.condition) && !rule.zone.empty() &&
          (!foot_of(rule, d, f, foot) || !inside(rule.zone, foot)))
        continue;
      matched.push_back(d);
    }
    bool fire = false;
    if (per_track_condition(rule.condition)) {
      matched = per_track(rule, state, matched, f);
      fire = !matched.empty();
    } else if (static_cast<int>(matched.size()) < rule.min_count) {
      state.streak_frames = 0;
    } else {
      if (state.streak_frames++ == 0) state.streak_start_us = f.capture_us;
      fire = rule.for_us > 0 ? f.capture_us - state.streak_start_us >= rule.for_us
                             : state.streak_frames >= rule.for_frames;
      if (fire) state.streak_frames = 0;  // the next alert needs the condition to hold again
    }
    if (!fire || !cooled_down(rule, state, f.capture_us)) continue;
    state.fired_once = true;
    state.last_fired_us = f.capture_us;
    ++stats_.fired;
    Alert a;
    a.id = fmt::format("{}/{}/{}/{}", rule.name, f.camera, f.session_us, f.seq);
    a.rule = &rule;
    a.frame = f;
    a.source = record.source;
    a.detections = std::move(matched);
    alerts.push_back(std::move(a));
  }
  return alerts;
}

}  // namespace kv::alert
