#include "web/live_state.h"

#include <map>

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/json.h"

namespace kv::web {
namespace {

constexpr size_t kEventsKept = 500;
constexpr int64_t kFpsWindowUs = 5'000'000;

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

nlohmann::json summary(const wire::DetectionRecord& r, int64_t receive_us) {
  nlohmann::json counts = nlohmann::json::object();
  nlohmann::json dets = nlohmann::json::array();
  for (const wire::DetectedObject& d : r.detections) {
    counts[d.label] = counts.value(d.label, 0) + 1;
    dets.push_back(
        {{"label", d.label},
         {"score", std::round(static_cast<double>(d.score) * 1000) / 1000},
         {"box",
          {std::round(d.box.x), std::round(d.box.y), std::round(d.box.w), std::round(d.box.h)}}});
    if (d.track_id > 0) dets.back()["track"] = d.track_id;
  }
  return {{"camera", r.frame.camera},
          {"seq", r.frame.seq},
          {"session_us", r.frame.session_us},
          {"capture_us", r.frame.capture_us},
          {"time", format_wall_time(r.frame.capture_us)},
          {"width", r.frame.width},
          {"height", r.frame.height},
          {"model", r.model},
          {"latency_ms", std::round((receive_us - r.frame.capture_us) / 100.0) / 10},
          {"counts", std::move(counts)},
          {"detections", std::move(dets)}};
}

}  // namespace

std::string frame_summary_json(const wire::DetectionRecord& record, int64_t receive_us) {
  return json_line(summary(record, receive_us));
}

std::string LiveState::camera_json(const std::string& name, const Camera& c, int64_t now_us) const {
  if (c.frames.empty()) return "{}";
  const Frame& newest = *c.frames.back();
  nlohmann::json j = summary(newest.record, newest.receive_us);
  double fps = 0;
  if (c.arrivals_us.size() >= 2 && now_us - c.arrivals_us.back() < kFpsWindowUs) {
    fps = (c.arrivals_us.size() - 1) * 1e6 / (c.arrivals_us.back() - c.arrivals_us.front());
  }
  j["fps"] = std::round(fps * 10) / 10;
  j["frames_seen"] = c.frames_seen;
  j["frames_skipped"] = c.frames_skipped;
  j["image"] =
      fmt::format("/api/cameras/{}/frames/{}.jpg", url_encode(name), newest.record.frame.seq);
  // Trails: where each object tracked in the newest frame stood (its box's bottom centre) in
  // the frames kept, oldest first.
  std::map<int64_t, nlohmann::json> trails;
  for (const wire::DetectedObject& d : newest.record.detections) {
    if (d.track_id > 0) trails[d.track_id] = nlohmann::json::array();
  }
  if (!trails.empty()) {
    for (const auto& f : c.frames) {
      if (f->record.frame.session_us != newest.record.frame.session_us) continue;
      for (const wire::DetectedObject& d : f->record.detections) {
        auto t = trails.find(d.track_id);
        if (d.track_id <= 0 || t == trails.end()) continue;
        t->second.push_back({std::round(d.box.x + d.box.w / 2), std::round(d.box.y + d.box.h)});
      }
    }
    nlohmann::json out = nlohmann::json::object();
    for (auto& [id, points] : trails) out[std::to_string(id)] = std::move(points);
    j["trails"] = std::move(out);
  }
  return json_line(j);
}

void LiveState::publish(const std::string& type, std::string json) {
  events_.push_back({next_event_++, type, std::move(json)});
  while (events_.size() > kEventsKept) events_.pop_front();
  changed_.notify_all();
}

void LiveState::add_frame(const wire::DetectionRecord& record, std::string jpeg,
                          int64_t receive_us) {
  auto frame = std::make_shared<Frame>();
  frame->record = record;
  frame->jpeg = std::move(jpeg);
  frame->receive_us = receive_us;
  std::lock_guard lock(mutex_);
  Camera& c = cameras_[record.frame.camera];
  // Detectors publish a camera's frames in order, but a frame published again (at-least-once,
  // after a rebalance) arrives late: keep them sorted.
  auto at = c.frames.end();
  while (at != c.frames.begin() && (*(at - 1))->record.frame.seq > record.frame.seq &&
         (*(at - 1))->record.frame.session_us == record.frame.session_us) {
    --at;
  }
  c.frames.insert(at, frame);
  while (c.frames.size() > frames_kept_) c.frames.pop_front();
  c.history.push_back(frame_summary_json(record, receive_us));
  while (c.history.size() > history_) c.history.pop_front();
  c.arrivals_us.push_back(mono_now_us());
  while (c.arrivals_us.size() > 2 && c.arrivals_us.back() - c.arrivals_us.front() > kFpsWindowUs)
    c.arrivals_us.pop_front();
  ++c.frames_seen;
  c.frames_skipped += record.skipped_before;
  if (c.frames.back() == frame)
    publish("frame", camera_json(record.frame.camera, c, mono_now_us()));
}

void LiveState::add_alert(const std::string& alert_json, int64_t receive_us) {
  (void)receive_us;
  std::lock_guard lock(mutex_);
  alerts_.push_back(alert_json);
  while (alerts_.size() > alerts_kept_) alerts_.pop_front();
  publish("alert", alert_json);
}

void LiveState::set_status(const std::string& status_json) {
  std::lock_guard lock(mutex_);
  status_ = status_json;
  publish("status", status_json);
}

std::string LiveState::cameras_json() const {
  std::lock_guard lock(mutex_);
  const int64_t now = mono_now_us();
  std::string out = "[";
  for (const auto& [name, c] : cameras_) {
    if (out.size() > 1) out += ',';
    out += camera_json(name, c, now);
  }
  return out + "]";
}

std::optional<std::string> LiveState::history_json(const std::string& camera) const {
  std::lock_guard lock(mutex_);
  auto it = cameras_.find(camera);
  if (it == cameras_.end()) return std::nullopt;
  std::string out = "[";
  for (const std::string& h : it->second.history) {
    if (out.size() > 1) out += ',';
    out += h;
  }
  return out + "]";
}

std::string LiveState::alerts_json() const {
  std::lock_guard lock(mutex_);
  std::string out = "[";
  for (const std::string& a : alerts_) {
    if (out.size() > 1) out += ',';
    out += a;
  }
  return out + "]";
}

std::string LiveState::status_json() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::optional<std::string> LiveState::jpeg(const std::string& camera, int64_t seq) const {
  std::shared_ptr<const Frame> frame;
  {
    std::lock_guard lock(mutex_);
    auto it = cameras_.find(camera);
    if (it == cameras_.end() || it->second.frames.empty()) return std::nullopt;
    for (auto f = it->second.frames.rbegin(); f != it->second.frames.rend(); ++f) {
      if (seq < 0 || (*f)->record.frame.seq == seq) {
        frame = *f;
        break;
      }
    }
  }
  if (!frame) return std::nullopt;
  return frame->jpeg;
}

std::vector<Event> LiveState::events_after(int64_t after_id, int timeout_ms) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return !events_.empty() && events_.back().id > after_id; });
  std::vector<Event> out;
  for (const Event& e : events_) {
    if (e.id > after_id) out.push_back(e);
  }
  return out;
}

int64_t LiveState::last_event_id() const {
  std::lock_guard lock(mutex_);
  return next_event_ - 1;
}

size_t LiveState::camera_count() const {
  std::lock_guard lock(mutex_);
  return cameras_.size();
}

}  // namespace kv::web
