#include "alert/engine.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/json.h"

namespace kv::alert {
namespace {

constexpr double kMinIou = 0.2;  // a box in the next frame overlapping this much is the same object
constexpr int kMaxMissed = 5;    // frames a track survives without a match

double iou(const wire::BoxPx& a, const wire::BoxPx& b) {
  const double x0 = std::max(a.x, b.x);
  const double y0 = std::max(a.y, b.y);
  const double x1 = std::min(a.x + a.w, b.x + b.w);
  const double y1 = std::min(a.y + a.h, b.y + b.h);
  const double overlap = std::max(0.0, x1 - x0) * std::max(0.0, y1 - y0);
  const double both = static_cast<double>(a.w) * a.h + static_cast<double>(b.w) * b.h - overlap;
  return both > 0 ? overlap / both : 0;
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

std::string alert_json(const Alert& a) {
  nlohmann::json dets = nlohmann::json::array();
  for (const wire::DetectedObject& d : a.detections) {
    dets.push_back({{"label", d.label},
                    {"score", std::round(static_cast<double>(d.score) * 1000) / 1000},
                    {"box", {tenths(d.box.x), tenths(d.box.y), tenths(d.box.w), tenths(d.box.h)}}});
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
  return json_line(j);
}

bool Engine::cooled_down(const Rule& rule, const State& state, int64_t now_us) {
  if (!state.fired_once || now_us - state.last_fired_us >= rule.cooldown_us) return true;
  ++stats_.suppressed;
  return false;
}

std::vector<wire::DetectedObject> Engine::crossings(
    const Rule& rule, State& state, const std::vector<wire::DetectedObject>& objects,
    const wire::FrameMeta& frame) {
  // Greedy matching of this frame's objects to the rule's tracks, best overlap first.
  std::vector<std::tuple<double, size_t, size_t>> pairs;  // iou, track, object
  for (size_t t = 0; t < state.tracks.size(); ++t) {
    for (size_t o = 0; o < objects.size(); ++o) {
      const double v = iou(state.tracks[t].box, objects[o].box);
      if (v >= kMinIou) pairs.emplace_back(v, t, o);
    }
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<bool> track_used(state.tracks.size(), false);
  std::vector<bool> object_used(objects.size(), false);
  std::vector<wire::DetectedObject> crossed;
  for (const auto& [v, t, o] : pairs) {
    if (track_used[t] || object_used[o]) continue;
    track_used[t] = object_used[o] = true;
    Track& track = state.tracks[t];
    Point foot;
    if (!foot_of(rule, objects[o], frame, foot)) continue;
    // A foot exactly on the line is on neither side: the crossing is judged from the last
    // position off it, so touching the line and going back is not a crossing.
    const double after = side_of(rule.line_a, rule.line_b, foot);
    if (after != 0) {
      if (track.has_anchor &&
          (side_of(rule.line_a, rule.line_b, track.anchor) > 0) != (after > 0) &&
          segments_cross(track.anchor, foot, rule.line_a, rule.line_b) &&
          moves_along(rule.direction, track.anchor, foot)) {
        crossed.push_back(objects[o]);
      }
      track.anchor = foot;
      track.has_anchor = true;
    }
    track.box = objects[o].box;
    track.missed = 0;
  }
  std::vector<Track> kept;
  for (size_t t = 0; t < state.tracks.size(); ++t) {
    if (!track_used[t] && ++state.tracks[t].missed > kMaxMissed) continue;
    kept.push_back(state.tracks[t]);
  }
  for (size_t o = 0; o < objects.size(); ++o) {
    Track track;
    Point foot;
    if (object_used[o] || !foot_of(rule, objects[o], frame, foot)) continue;
    track.id = state.next_track++;
    track.has_anchor = side_of(rule.line_a, rule.line_b, foot) != 0;
    track.anchor = foot;
    track.box = objects[o].box;
    kept.push_back(track);
  }
  state.tracks = std::move(kept);
  return crossed;
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
      state.tracks.clear();
    }
    std::vector<wire::DetectedObject> matched;
    for (const wire::DetectedObject& d : record.detections) {
      if (d.score < rule.min_score ||
          std::find(rule.labels.begin(), rule.labels.end(), d.label) == rule.labels.end()) {
        continue;
      }
      Point foot;
      if (!rule.zone.empty() && (!foot_of(rule, d, f, foot) || !inside(rule.zone, foot))) continue;
      matched.push_back(d);
    }
    bool fire = false;
    if (rule.condition == Condition::kCrosses) {
      matched = crossings(rule, state, matched, f);
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
