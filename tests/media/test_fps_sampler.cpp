#include <gtest/gtest.h>

#include "media/fps_sampler.h"

namespace kv::media {
namespace {

int kept(double source_fps, double target_fps, int frames) {
  FpsSampler s(target_fps);
  int n = 0;
  for (int i = 0; i < frames; ++i) n += s.take(i * 1000.0 / source_fps) ? 1 : 0;
  return n;
}

TEST(FpsSampler, ZeroKeepsEverything) {
  EXPECT_EQ(kept(25, 0, 100), 100);
}
TEST(FpsSampler, HalvesTheRate) {
  EXPECT_EQ(kept(10, 5, 100), 50);
}
TEST(FpsSampler, NonIntegerRatio) {
  EXPECT_NEAR(kept(30, 7, 300), 70, 1);
}
TEST(FpsSampler, HigherTargetKeepsAll) {
  EXPECT_EQ(kept(10, 30, 50), 50);
}

TEST(FpsSampler, GapDoesNotCauseBurst) {
  FpsSampler s(1);
  EXPECT_TRUE(s.take(0));
  EXPECT_TRUE(s.take(10000));   // stream jumped 10 s
  EXPECT_FALSE(s.take(10500));  // still spaced 1 s from the last kept frame
  EXPECT_TRUE(s.take(11000));
}

}  // namespace
}  // namespace kv::media
