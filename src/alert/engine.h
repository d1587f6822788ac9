// The alert engine: feeds each camera's detection records through the rules and says which
// alerts fire. Time is the frames' capture time, so a replay fires the same alerts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alert/rules.h"
#include "wire/detection_record.h"

namespace kv::alert {

struct Alert {
  std::string id;  // rule/camera/session/seq: the same alert always has the same id
  const Rule* rule = nullptr;
  wire::FrameMeta frame;
  wire::SourceRef source;                        // the raw frame
  std::vector<wire::DetectedObject> detections;  // the objects that triggered it
};

// The clip a rule asks for around an alert (clip_before/clip_after): its file name (from the
// alert's id: letters, digits, '.', '_' and '-' only) and its range of capture times.
struct AlertClip {
  std::string file;
  std::string camera;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};
std::optional<AlertClip> alert_clip(const Alert& alert);

// The alert's JSON: rule, condition, camera, time, frame reference, detections, and the clip
// it will have (file, from, to) when its rule asks for one.
std::string alert_json(const Alert& alert);

struct EngineStats {
  int64_t frames = 0;
  int64_t fired = 0;
  int64_t suppressed = 0;  // held back by a cooldown
  int64_t stale = 0;       // records older than one already seen (redelivered): skipped
};

// Thread-safety: one thread at a time.
class Engine {
 public:
  explicit Engine(std::vector<Rule> rules) : rules_(std::move(rules)) {}

  // The alerts this frame fires, in rule order.
  std::vector<Alert> process(const wire::DetectionRecord& record);

  const std::vector<Rule>& rules() const { return rules_; }
  const EngineStats& stats() const { return stats_; }

 private:
  // What a rule knows of one tracked object (by its track ID).
  struct Seen {
    Point anchor;  // the last position off the line (where a crossing starts from)
    bool has_anchor = false;
    bool crossed = false;  // counted once
    int inside = -1;       // in the zone when last seen: 1, 0, or -1 not seen yet
    int64_t inside_since_us = 0;
    bool dwell_fired = false;  // for this stay
    int64_t last_seen_us = 0;
  };
  struct State {  // per rule and camera
    int streak_frames = 0;
    int64_t streak_start_us = 0;
    bool fired_once = false;
    int64_t last_fired_us = 0;
    std::map<int64_t, Seen> objects;  // per-track conditions
    int64_t window = -1;              // kDistinct: the current window's number
    std::set<int64_t> window_ids;
    bool window_fired = false;
  };
  struct CameraClock {
    int64_t session_us = 0;
    int64_t seq = -1;
  };

  // Whether the rule's cooldown lets it fire now (and counts it if not).
  bool cooled_down(const Rule& rule, const State& state, int64_t now_us);
  // The objects that meet a per-track condition in this frame.
  std::vector<wire::DetectedObject> per_track(const Rule& rule, State& state,
                                              const std::vector<wire::DetectedObject>& objects,
                                              const wire::FrameMeta& frame);

  std::vector<Rule> rules_;
  std::map<std::pair<size_t, std::string>, State> states_;
  std::map<std::string, CameraClock> clocks_;
  EngineStats stats_;
};

}  // namespace kv::alert
