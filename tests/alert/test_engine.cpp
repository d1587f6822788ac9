#include "alert/engine.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kv::alert {
namespace {

std::vector<Rule> rules_from(const std::string& text) {
  auto r = parse_rules(text, "t");
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<Rule>{};
}

// A 100x100 frame of camera "cam" at 10 fps, with people whose boxes stand at `feet` (x, y).
wire::DetectionRecord frame(int64_t seq, const std::vector<std::pair<float, float>>& feet,
                            const std::string& label = "person", float score = 0.9f) {
  wire::DetectionRecord r;
  r.frame.camera = "cam";
  r.frame.session_us = 1;
  r.frame.seq = seq;
  r.frame.capture_us = 1'000'000 + seq * 100'000;
  r.frame.width = 100;
  r.frame.height = 100;
  r.source = {"raw_video_frames", 0, seq};
  for (auto [x, y] : feet) r.detections.push_back({0, label, score, {x - 5, y - 20, 10, 20}});
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
