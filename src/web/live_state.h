// What the live view shows, kept in memory: per camera the newest frames (JPEG and detections),
// a short history, counts by label, fps and latency; the recent alerts; the pipeline's health.
// Changes are also published as events for the server-sent event stream.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wire/detection_record.h"

namespace kv::web {

struct Event {
  int64_t id = 0;
  std::string type;  // frame, alert, status
  std::string json;
};

// Thread-safety: every method may be called from any thread.
class LiveState {
 public:
  explicit LiveState(size_t frames_kept = 30, size_t history = 120, size_t alerts_kept = 50)
      : frames_kept_(frames_kept), history_(history), alerts_kept_(alerts_kept) {}

  void add_frame(const wire::DetectionRecord& record, std::string jpeg, int64_t receive_us);
  void add_alert(const std::string& alert_json, int64_t receive_us);
  void set_status(const std::string& status_json);

  // JSON documents for the API.
  std::string cameras_json() const;  // every camera's newest frame, counts, fps, latency
  std::optional<std::string> history_json(const std::string& camera) const;
  std::string alerts_json() const;
  std::string status_json() const;
  // A kept frame's JPEG (the newest when seq < 0); nullopt when no longer kept.
  std::optional<std::string> jpeg(const std::string& camera, int64_t seq) const;

  // Events after `after_id`, waiting up to timeout_ms for one. When the client fell behind
  // the kept events, it resumes from the oldest kept.
  std::vector<Event> events_after(int64_t after_id, int timeout_ms) const;
  int64_t last_event_id() const;
  size_t camera_count() const;

 private:
  struct Frame {
    wire::DetectionRecord record;
    std::string jpeg;
    int64_t receive_us = 0;
  };
  struct Camera {
    std::deque<std::shared_ptr<const Frame>> frames;  // newest last
    std::deque<std::string> history;                  // one summary JSON per frame
    std::deque<int64_t> arrivals_us;                  // for fps
    int64_t frames_seen = 0;
    int64_t frames_skipped = 0;  // skipped by the detectors as stale, or dead-lettered
  };
  std::string camera_json(const std::string& name, const Camera& c, int64_t now_us) const;
  void publish(const std::string& type, std::string json);

  const size_t frames_kept_;
  const size_t history_;
  const size_t alerts_kept_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, Camera> cameras_;
  std::deque<std::string> alerts_;  // newest last
  std::string status_ = "{}";
  std::deque<Event> events_;
  int64_t next_event_ = 1;
};

// The per-frame summary: camera, seq, time, size, counts by label, detections.
std::string frame_summary_json(const wire::DetectionRecord& record, int64_t receive_us);

}  // namespace kv::web
