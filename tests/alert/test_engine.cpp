#include "alert/engine.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kv::alert {
namespace {

std::vector<Rule> rules_from(const std::string& text) {
  auto r = parse_rules(text, "t");
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<Rule>{};
}

// A 100x100 frame of camera "cam" at 10 fps, with people whose boxes stand at `feet` (x, y);
// the k-th person has track ID `ids[k]` (k + 1 by default; 0: not tracked).
wire::DetectionRecord frame(int64_t seq, const std::vector<std::pair<float, float>>& feet,
                            const std::string& label = "person", float score = 0.9f,
                            std::vector<int64_t> ids = {}) {
  wire::DetectionRecord r;
  r.frame.camera = "cam";
  r.frame.session_us = 1;
  r.frame.seq = seq;
  r.frame.capture_us = 1'000'000 + seq * 100'000;
  r.frame.width = 100;
  r.frame.height = 100;
  r.source = {"raw_video_frames", 0, seq};
  for (size_t k = 0; k < feet.size(); ++k) {
    const auto [x, y] = feet[k];
    const int64_t id = k < ids.size() ? ids[k] : static_cast<int64_t>(k) + 1;
    r.detections.push_back({0, label, score, {x - 5, y - 20, 10, 20}, id});
  }
  return r;
}

int fire_count(Engine& e, const wire::DetectionRecord& r) {
  return static_cast<int>(e.process(r).size());
}

TEST(Engine, PresentForNFramesInAZone) {
  Engine e(
      rules_from("[low]\nlabels = person\nunits = normalised\nzone = 0,0.5 1,0.5 1,1 0,1\n"
                 "when = present for 3 frames\ncooldown = 1h\n"));
  EXPECT_EQ(fire_count(e, frame(0, {{50, 80}})), 0);
  EXPECT_EQ(fire_count(e, frame(1, {{50, 80}})), 0);
  EXPECT_EQ(fire_count(e, frame(2, {{50, 30}})), 0);  // left the zone: the streak restarts
  EXPECT_EQ(fire_count(e, frame(3, {{50, 80}})), 0);
  EXPECT_EQ(fire_count(e, frame(4, {{50, 80}})), 0);
  auto alerts = e.process(frame(5, {{50, 80}, {20, 10}}));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].id, "low/cam/1/5");
  ASSERT_EQ(alerts[0].detections.size(), 1u);  // only the one in the zone
  EXPECT_FLOAT_EQ(alerts[0].detections[0].box.y, 60);
  for (int s = 6; s < 30; ++s) EXPECT_EQ(fire_count(e, frame(s, {{50, 80}})), 0);  // cooldown
  EXPECT_EQ(e.stats().fired, 1);
  EXPECT_EQ(e.stats().suppressed, 8);  // every third frame would have fired again

  const nlohmann::json j = nlohmann::json::parse(alert_json(alerts[0]));
  EXPECT_EQ(j["rule"], "low");
  EXPECT_EQ(j["camera"], "cam");
  EXPECT_EQ(j["frame"]["offset"], 5);
  EXPECT_EQ(j["frame"]["topic"], "raw_video_frames");
  EXPECT_EQ(j["detections"].size(), 1u);
}

TEST(Engine, ARuleWithAClipNamesItInTheAlert) {
  Engine plain(rules_from("[p]\nlabels = person\nwhen = present\n"));
  auto none = plain.process(frame(0, {{50, 80}}));
  ASSERT_EQ(none.size(), 1u);
  EXPECT_FALSE(alert_clip(none[0]).has_value());
  EXPECT_FALSE(nlohmann::json::parse(alert_json(none[0])).contains("clip"));

  Engine e(
      rules_from("[door watch]\nlabels = person\nwhen = present\nclip_before = 10s\n"
                 "clip_after = 2.5s\n"));
  auto alerts = e.process(frame(7, {{50, 80}}));  // captured at 1.7 s
  ASSERT_EQ(alerts.size(), 1u);
  auto clip = alert_clip(alerts[0]);
  ASSERT_TRUE(clip.has_value());
  EXPECT_EQ(clip->camera, "cam");
  EXPECT_EQ(clip->from_ms, 1700 - 10000);
  EXPECT_EQ(clip->to_ms, 1700 + 2500);
  // The id "door watch/cam/1/7" made a plain file name: no '/' or space leads anywhere.
  EXPECT_EQ(clip->file, "door_watch_cam_1_7.mp4");
  const nlohmann::json j = nlohmann::json::parse(alert_json(alerts[0]));
  EXPECT_EQ(j["clip"]["file"], "door_watch_cam_1_7.mp4");
  EXPECT_TRUE(j["clip"]["from"].is_string());
  EXPECT_TRUE(j["clip"]["to"].is_string());
}

TEST(Engine, CooldownEndsAndScoreAndLabelFilter) {
  Engine e(
      rules_from("[p]\nlabels = person\nmin_score = 0.5\nwhen = present for 2 frames\n"
                 "cooldown = 1s\n"));
  int fired = 0;
  for (int s = 0; s < 40; ++s) fired += fire_count(e, frame(s, {{50, 50}}));  // 4 s at 10 fps
  EXPECT_EQ(fired, 4);  // at 0.1 s, then once a second
  EXPECT_EQ(fire_count(e, frame(40, {{50, 50}}, "person", 0.3f)), 0);
  EXPECT_EQ(fire_count(e, frame(41, {{50, 50}}, "car")), 0);
  EXPECT_EQ(e.stats().fired, 4);
}

TEST(Engine, SecondsAndCounts) {
  Engine e(rules_from("[crowd]\nlabels = person\nwhen = count >= 3 for 0.5s\n"));
  const std::vector<std::pair<float, float>> three{{10, 50}, {50, 50}, {90, 50}};
  EXPECT_EQ(fire_count(e, frame(0, three)), 0);
  EXPECT_EQ(fire_count(e, frame(1, {{10, 50}, {50, 50}})), 0);  // two: resets
  for (int s = 2; s < 7; ++s) EXPECT_EQ(fire_count(e, frame(s, three)), 0) << s;
  EXPECT_EQ(fire_count(e, frame(7, three)), 1);  // 0.5 s after frame 2
}

TEST(Engine, LineCrossingWithDirection) {
  Engine e(
      rules_from("[in]\nlabels = person\nwhen = crosses 0,50 100,50 down\n\n"
                 "[out]\nlabels = person\nwhen = crosses 0,50 100,50 up\n"));
  // One person walks down across y=50, another walks up across it further right.
  std::vector<int> in, out;
  for (int s = 0; s < 10; ++s) {
    const float down_y = 30 + s * 5;  // 30 .. 75
    const float up_y = 80 - s * 5;    // 80 .. 35
    for (const Alert& a : e.process(frame(s, {{20, down_y}, {80, up_y}}))) {
      (a.rule->name == "in" ? in : out).push_back(s);
      ASSERT_EQ(a.detections.size(), 1u);
      EXPECT_FLOAT_EQ(a.detections[0].box.x + 5, a.rule->name == "in" ? 20 : 80);
    }
  }
  EXPECT_EQ(in, std::vector<int>{5});   // 45 -> 50 touches the line, 50 -> 55 crosses it
  EXPECT_EQ(out, std::vector<int>{7});  // 55 -> 50 touches, 50 -> 45 crosses
}

TEST(Engine, ACrossingCountsOncePerObjectAndNeedsATrackId) {
  Engine e(rules_from("[line]\nlabels = person\nwhen = crosses 0,50 100,50 any\n"));
  // Person 1 crosses down, back up and down again; person 2 (untracked) crosses once.
  const float path[] = {40, 45, 55, 60, 45, 40, 55, 60};
  int fired = 0;
  for (int s = 0; s < 8; ++s) {
    for (const Alert& a :
         e.process(frame(s, {{20, path[s]}, {80, path[s]}}, "person", 0.9f, {1, 0}))) {
      ASSERT_EQ(a.detections.size(), 1u);
      EXPECT_EQ(a.detections[0].track_id, 1);
      EXPECT_NE(alert_json(a).find("\"track\":1"), std::string::npos);
      ++fired;
    }
  }
  EXPECT_EQ(fired, 1);
  // A second object crossing is counted: IDs, not positions, tell objects apart.
  Engine two(rules_from("[line]\nlabels = person\nwhen = crosses 0,50 100,50 down\n"));
  int objects = 0;
  for (int s = 0; s < 4; ++s) {
    for (const Alert& a : two.process(frame(s, {{20, path[s]}, {22, path[s]}})))
      objects += static_cast<int>(a.detections.size());
  }
  EXPECT_EQ(objects, 2);
}

TEST(Engine, EntersAndLeavesAZone) {
  Engine e(
      rules_from("[in]\nlabels = person\nzone = 0,50 100,50 100,100 0,100\nwhen = enters\n\n"
                 "[out]\nlabels = person\nzone = 0,50 100,50 100,100 0,100\nwhen = leaves\n"));
  // Person 1 walks in and out again; person 2 appears inside (no entry seen) and stays.
  const float y1[] = {30, 40, 60, 70, 60, 40, 30};
  std::vector<std::string> events;
  for (int s = 0; s < 7; ++s) {
    for (const Alert& a : e.process(frame(s, {{20, y1[s]}, {80, 80}})))
      for (const auto& d : a.detections)
        events.push_back(fmt::format("{}:{}@{}", a.rule->name, d.track_id, s));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"in:1@2", "out:1@5"}));
}

TEST(Engine, DwellFiresOncePerStay) {
  Engine e(rules_from(
      "[loiter]\nlabels = person\nzone = 0,50 100,50 100,100 0,100\nwhen = dwell >= 1s\n"));
  // 10 fps: inside from frame 2; 1 s later (frame 12) it fires; out at 20, in again at 22.
  std::vector<int> fired;
  for (int s = 0; s < 40; ++s) {
    const float y = (s < 2 || (s >= 20 && s < 22)) ? 30.f : 80.f;
    // Frames 14-16 have no detection of it (occluded): the stay goes on.
    const auto r = (s >= 14 && s <= 16) ? frame(s, {}) : frame(s, {{20, y}});
    if (!e.process(r).empty()) fired.push_back(s);
  }
  EXPECT_EQ(fired, (std::vector<int>{12, 32}));
}

TEST(Engine, DistinctObjectsPerWindow) {
  Engine e(rules_from("[busy]\nlabels = person\nwhen = distinct >= 3 per 1s\n"));
  // Windows of 1 s = 10 frames of capture time (frame 0 is at 1.0 s). One new person per
  // 4 frames, each seen for 2 frames: 3 different ones within a window only in the first.
  std::vector<int> fired;
  for (int s = 0; s < 30; ++s) {
    std::vector<std::pair<float, float>> feet;
    std::vector<int64_t> ids;
    if (s % 4 < 2 && s < 12) {
      feet.push_back({50, 50});
      ids.push_back(s / 4 + 1);
    } else if (s % 4 < 2 && s >= 12) {
      feet.push_back({50, 50});
      ids.push_back(s / 8 + 10);  // the same person for 8 frames at a time
    }
    if (!e.process(frame(s, feet, "person", 0.9f, ids)).empty()) fired.push_back(s);
  }
  EXPECT_EQ(fired, std::vector<int>{8});  // IDs 1, 2, 3 at frames 0, 4, 8
}

TEST(Engine, ImpossibleRuleNeverFires) {
  Engine e(rules_from("[never]\nlabels = person\nmin_score = 1\nwhen = present\n"));
  for (int s = 0; s < 50; ++s) EXPECT_EQ(fire_count(e, frame(s, {{50, 50}}, "person", 0.99f)), 0);
}

TEST(Engine, RedeliveredFramesAreSkippedAndOtherCamerasIgnored) {
  Engine e(rules_from("[p]\nlabels = person\ncameras = cam\nwhen = present for 2 frames\n"));
  EXPECT_EQ(fire_count(e, frame(0, {{50, 50}})), 0);
  EXPECT_EQ(fire_count(e, frame(0, {{50, 50}})), 0);  // the same frame again
  EXPECT_EQ(e.stats().stale, 1);
  auto other = frame(1, {{50, 50}});
  other.frame.camera = "elsewhere";
  EXPECT_EQ(fire_count(e, other), 0);
  EXPECT_EQ(fire_count(e, frame(1, {{50, 50}})), 1);
}

}  // namespace
}  // namespace kv::alert
