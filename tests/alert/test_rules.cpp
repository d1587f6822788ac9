#include "alert/rules.h"
#include "common/units.h"

#include <gtest/gtest.h>

namespace kv::alert {
namespace {

std::string error_of(const std::string& text) {
  auto r = parse_rules(text, "r.conf");
  return r ? "" : r.error().message;
}

TEST(Rules, ParsesEveryKey) {
  auto rules = parse_rules(R"(
# people standing near the door
[door]
labels    = person, dog
min_score = 0.6
cameras   = lobby,gate
units     = normalised
zone      = 0,0.5 1,0.5 1,1 0,1   # lower half
when      = present for 3 frames
cooldown  = 2m

[crowd]
labels = person
when   = count >= 4 for 1.5 s

[line]
labels = car
when   = crosses 0,300 768,300 down
)",
                           "r.conf");
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 3u);
  const Rule& door = (*rules)[0];
  EXPECT_EQ(door.name, "door");
  EXPECT_EQ(door.line, 3);
  EXPECT_EQ(door.labels, (std::vector<std::string>{"person", "dog"}));
  EXPECT_DOUBLE_EQ(door.min_score, 0.6);
  EXPECT_EQ(door.cameras, (std::vector<std::string>{"lobby", "gate"}));
  EXPECT_TRUE(door.normalised);
  ASSERT_EQ(door.zone.size(), 4u);
  EXPECT_DOUBLE_EQ(door.zone[1].x, 1);
  EXPECT_EQ(door.condition, Condition::kPresent);
  EXPECT_EQ(door.for_frames, 3);
  EXPECT_EQ(door.cooldown_us, 120'000'000);
  const Rule& crowd = (*rules)[1];
  EXPECT_EQ(crowd.condition, Condition::kCount);
  EXPECT_EQ(crowd.min_count, 4);
  EXPECT_EQ(crowd.for_us, 1'500'000);
  EXPECT_DOUBLE_EQ(crowd.min_score, 0.5);  // the default
  const Rule& line = (*rules)[2];
  EXPECT_EQ(line.condition, Condition::kCrosses);
  EXPECT_DOUBLE_EQ(line.line_b.x, 768);
  EXPECT_EQ(line.direction, Direction::kDown);
}

TEST(Rules, PerTrackConditions) {
  auto rules = parse_rules(
      "[a]\nlabels = person\nzone = 0,0 9,0 9,9\nwhen = dwell >= 30 s\n"
      "[b]\nlabels = person\nwhen = distinct >= 10 per 1m\n"
      "[c]\nlabels = car\nzone = 0,0 9,0 9,9\nwhen = leaves\n",
      "r.conf");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  EXPECT_EQ((*rules)[0].condition, Condition::kDwell);
  EXPECT_EQ((*rules)[0].dwell_us, 30'000'000);
  EXPECT_EQ((*rules)[1].condition, Condition::kDistinct);
  EXPECT_EQ((*rules)[1].min_count, 10);
  EXPECT_EQ((*rules)[1].window_us, 60'000'000);
  EXPECT_EQ((*rules)[2].condition, Condition::kLeaves);
}

TEST(Rules, MistakesNameTheLineAndTheReason) {
  EXPECT_EQ(error_of("[a]\nlabels = person\nlables = car\nwhen = present\n"),
            "r.conf:3: unknown key 'lables' (expected labels, min_score, cameras, units, zone, "
            "when, cooldown, clip_before, clip_after)");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = present for three frames\n"),
            "r.conf:3: 'three' is not a number of frames from 1 to 1000000");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = sometimes\n"),
            "r.conf:3: unknown condition 'sometimes' (present, count, crosses, enters, leaves, "
            "dwell or distinct)");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = enters\n"),
            "rule 'a' (r.conf:1): 'enters' needs a zone");
  EXPECT_EQ(error_of("[a]\nlabels = person\nzone = 0,0 9,0 9,9\nwhen = dwell 30s\n"),
            "r.conf:4: expected 'dwell >= S' (e.g. dwell >= 30s)");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = distinct >= 3\n"),
            "r.conf:3: expected 'distinct >= K per S' (e.g. distinct >= 10 per 1m)");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = distinct >= 3 per soon\n"),
            "r.conf:3: 'soon' is not a duration (like 500ms, 3s, 2m, 1h)");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = present\nzone = 0,0 1\n"),
            "r.conf:4: '1' is not a point: expected X,Y");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = present\nmin_score = 2\n"),
            "r.conf:4: min_score '2' is not a number from 0 to 1");
  EXPECT_EQ(error_of("[a]\nlabels = person\nwhen = present\ncooldown = soon\n"),
            "r.conf:4: 'soon' is not a duration (like 500ms, 3s, 2m, 1h)");
  EXPECT_EQ(error_of("labels = person\n"), "r.conf:1: 'labels' before any [rule name]");
  EXPECT_EQ(error_of("[a]\nlabels person\n"), "r.conf:2: expected 'key = value' or '[rule name]'");
  EXPECT_EQ(error_of("[a]\nlabels = p\nwhen = present\n[a]\n"),
            "r.conf:4: a second rule named 'a'");
  EXPECT_EQ(error_of("[a]\nwhen = present\n\n[b]\n"), "rule 'a' (r.conf:1): no 'labels'");
  EXPECT_EQ(error_of("[a]\nlabels = p\nwhen = crosses 0,0 0,0\n"),
            "r.conf:3: the line's two ends are the same point");
  EXPECT_EQ(error_of("[a]\nlabels = p\nwhen = crosses 0,0 1,1 sideways\n"),
            "r.conf:3: unknown direction 'sideways' (up, down, left, right or any)");
  EXPECT_EQ(error_of("[a]\nlabels = p\nunits = normalised\nzone = 0,0 2,0 2,2\nwhen = present\n"),
            "rule 'a' (r.conf:1): units = normalised, but a zone point is outside 0..1");
  EXPECT_EQ(error_of("# nothing\n"), "r.conf: no rules");
  EXPECT_EQ(error_of("[a]\nlabels = p\nwhen = count >= 3000000000\n"),
            "r.conf:3: expected 'count >= K' with K a whole number from 1 to 1000000");
  EXPECT_EQ(error_of("[a]\nlabels = p\nwhen = present\nmin_score = nan\n"),
            "r.conf:4: min_score 'nan' is not a number from 0 to 1");
  EXPECT_EQ(error_of("[a]\nlabels = p\nwhen = present\ncooldown = 99999999999h\n"),
            "r.conf:4: '99999999999h' is too long");
}

TEST(Rules, ClipAroundAlerts) {
  auto r = parse_rules(
      "[a]\nlabels = person\nwhen = present\nclip_before = 10s\nclip_after = 500ms\n", "r.conf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)[0].clip_before_us, 10'000'000);
  EXPECT_EQ((*r)[0].clip_after_us, 500'000);
  EXPECT_TRUE((*r)[0].wants_clip());
  auto none = parse_rules("[a]\nlabels = person\nwhen = present\n", "r.conf");
  EXPECT_FALSE((*none)[0].wants_clip());
  auto long_clip =
      parse_rules("[a]\nlabels = person\nwhen = present\nclip_after = 11m\n", "r.conf");
  ASSERT_FALSE(long_clip);
  EXPECT_NE(long_clip.error().message.find("r.conf:4"), std::string::npos)
      << long_clip.error().message;
  EXPECT_NE(long_clip.error().message.find("more than 10 minutes"), std::string::npos);
  EXPECT_FALSE(parse_rules("[a]\nlabels = person\nwhen = present\nclip_before = soon\n", "r"));
}

TEST(Rules, Durations) {
  EXPECT_EQ(*parse_duration("250ms"), 250'000);
  EXPECT_EQ(*parse_duration("3s"), 3'000'000);
  EXPECT_EQ(*parse_duration("1h"), 3'600'000'000);
  EXPECT_EQ(*parse_duration("0"), 0);
  EXPECT_FALSE(parse_duration("3"));
  EXPECT_FALSE(parse_duration("3 days"));
  EXPECT_EQ(*parse_size("500MB"), 500'000'000);
  EXPECT_EQ(*parse_size("2G"), 2'000'000'000);
  EXPECT_EQ(*parse_size("1024"), 1024);
  EXPECT_FALSE(parse_size("lots"));
  EXPECT_FALSE(parse_size("5 TB"));
  EXPECT_FALSE(parse_size("inf"));
  EXPECT_FALSE(parse_duration("nan s"));
}

}  // namespace
}  // namespace kv::alert
