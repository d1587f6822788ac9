// A clip's timing: the source's frame rate, its gaps kept as held frames, and sessions joined.
#include <gtest/gtest.h>

#include "vlog/clip.h"

namespace kv::vlog {
namespace {

wire::FrameMeta frame(int64_t session, int64_t pos_ms) {
  wire::FrameMeta m;
  m.camera = "c";
  m.session_us = session;
  m.stream_pos_ms = pos_ms;
  return m;
}

TEST(SourceFps, IsTheMedianStepOfTheStreamPositions) {
  std::vector<wire::FrameMeta> f;
  for (int i = 0; i < 10; ++i) f.push_back(frame(1, i * 200));
  f.push_back(frame(1, 9000));  // one gap does not change it
  EXPECT_DOUBLE_EQ(source_fps(f), 5.0);
  EXPECT_DOUBLE_EQ(source_fps({frame(1, 0)}), 25.0);  // nothing to tell: the default
  // Steps across sessions say nothing about the rate.
  EXPECT_DOUBLE_EQ(source_fps({frame(1, 0), frame(2, 0), frame(2, 100), frame(2, 200)}), 10.0);
}

TEST(ClipClock, FollowsStreamPositionsAndJoinsSessions) {
  ClipClock clock(100);
  EXPECT_DOUBLE_EQ(clock.time_of(frame(1, 5000)), 0);
  EXPECT_DOUBLE_EQ(clock.time_of(frame(1, 5100)), 100);
  EXPECT_DOUBLE_EQ(clock.time_of(frame(1, 8100)), 3100);  // 3 s the camera lost: kept
  EXPECT_DOUBLE_EQ(clock.time_of(frame(2, 0)), 3200);     // ingest restarted: one interval on
  EXPECT_DOUBLE_EQ(clock.time_of(frame(2, 100)), 3300);
}

TEST(ConstantRate, HoldsFramesOverGapsAndDropsNone) {
  ConstantRate rate(10);
  // Frames at 0, 100, 200 ms, then one at 1000 ms: the third is held for 8 frames.
  EXPECT_EQ(rate.showings_until(100), 1);
  EXPECT_EQ(rate.showings_until(200), 1);
  EXPECT_EQ(rate.showings_until(1000), 8);
  // Two frames closer than a frame interval both still show once.
  EXPECT_EQ(rate.showings_until(1020), 1);
  EXPECT_EQ(rate.showings_until(1100), 1);
  EXPECT_EQ(rate.written(), 12);
}

}  // namespace
}  // namespace kv::vlog
