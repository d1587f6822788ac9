// Alert rules: what `kvision alert` watches for, parsed from a small declarative file.
//
//   # comments start with '#'
//   [person-at-the-door]            one section per rule; the name is the rule's id
//   labels    = person, dog         required: the labels that count
//   min_score = 0.5                 default 0.5
//   cameras   = lobby, gate         default: every camera
//   units     = normalised          zone and line coordinates: pixels (default) or normalised
//   zone      = 0,0.5 1,0.5 1,1 0,1 optional polygon; an object is in it when the bottom centre
//                                   of its box (where it stands) lies inside
//   when      = present for 3 frames
//   cooldown  = 60s                 per camera: no second alert from this rule sooner
//   clip_before = 10s               a clip of the camera from 10 s before the alert ...
//   clip_after  = 5s                ... to 5 s after it, written when that has passed
//                                   (kvision alert --clips-dir; docs/video-log.md)
//
// Conditions (`when`):
//   present [for N frames | for S s]        at least one object, for N frames / S seconds running
//   count >= K [for N frames | for S s]     at least K objects in one frame (and running)
// Per tracked object (the detections' track IDs; objects without one are not counted):
//   crosses X1,Y1 X2,Y2 [up|down|left|right|any]
//                                           an object's bottom centre crosses the segment,
//                                           moving in that direction (default any); once per
//                                           object
//   enters | leaves                         an object seen outside the zone is now inside it,
//                                           or the other way round (needs a zone)
//   dwell >= S                              an object has stayed in the zone for S (loitering);
//                                           once per stay (needs a zone)
//   distinct >= K per S                     K different objects in the zone (or the frame)
//                                           within one S-long window of capture time; once per
//                                           window
// Durations take ms, s, m or h. A rule file with a mistake is refused with its line and why.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/geometry.h"
#include "common/result.h"

namespace kv::alert {

using kv::Point;

enum class Condition { kPresent, kCount, kCrosses, kEnters, kLeaves, kDwell, kDistinct };
enum class Direction { kAny, kUp, kDown, kLeft, kRight };

struct Rule {
  std::string name;
  int line = 0;  // where its section starts, for messages
  std::vector<std::string> labels;
  double min_score = 0.5;
  std::vector<std::string> cameras;  // empty: every camera
  bool normalised = false;
  std::vector<Point> zone;  // empty: the whole frame
  Condition condition = Condition::kPresent;
  int min_count = 1;      // objects in one frame
  int for_frames = 1;     // consecutive frames the count must hold
  int64_t for_us = 0;     // or: how long it must hold (capture time); 0: use for_frames
  Point line_a, line_b;   // kCrosses
  int64_t dwell_us = 0;   // kDwell
  int64_t window_us = 0;  // kDistinct: K = min_count objects per window
  Direction direction = Direction::kAny;
  int64_t cooldown_us = 0;
  int64_t clip_before_us = 0;  // a clip around each alert when either is set
  int64_t clip_after_us = 0;
  bool wants_clip() const { return clip_before_us > 0 || clip_after_us > 0; }
  std::string when;  // the condition as written, for the alert
};

// Parses a rule file's text; `source` names it in errors ("rules.conf:7: ...").
Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& source);
Result<std::vector<Rule>> load_rules(const std::string& path);

}  // namespace kv::alert
