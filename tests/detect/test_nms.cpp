#include <gtest/gtest.h>

#include "detect/nms.h"

namespace kv::detect {
namespace {

TEST(Iou, KnownValues) {
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0f);
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {20, 20, 5, 5}), 0.0f);
  EXPECT_NEAR(iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0f / 150.0f, 1e-6);
}

TEST(Nms, SuppressesOverlapsOfTheSameClassOnly) {
  std::vector<Detection> in = {
      {0, 0.6f, {0, 0, 10, 10}},
      {0, 0.9f, {1, 1, 10, 10}},
      {1, 0.7f, {0, 0, 10, 10}},    // other class: kept
      {0, 0.5f, {50, 50, 10, 10}},  // far away: kept
  };
  auto out = nms_per_class(in, 0.45f, 100);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FLOAT_EQ(out[0].score, 0.9f);
  EXPECT_EQ(out[1].class_id, 1);
  EXPECT_FLOAT_EQ(out[2].score, 0.5f);
}

TEST(Nms, ThresholdIsStrict) {
  // IoU exactly 1/3 survives a 0.34 threshold and is suppressed at 0.3.
  std::vector<Detection> in = {{0, 0.9f, {0, 0, 10, 10}}, {0, 0.8f, {5, 0, 10, 10}}};
  EXPECT_EQ(nms_per_class(in, 0.34f, 100).size(), 2u);
  EXPECT_EQ(nms_per_class(in, 0.30f, 100).size(), 1u);
}

TEST(Nms, CapsTheCount) {
  std::vector<Detection> in;
  for (int i = 0; i < 20; ++i) in.push_back({0, 0.5f + i * 0.01f, {i * 20.0f, 0, 10, 10}});
  auto out = nms_per_class(in, 0.5f, 5);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_NEAR(out[0].score, 0.69f, 1e-6);
}

}  // namespace
}  // namespace kv::detect
