#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "detect/nms.h"
#include "detect/yolox.h"

namespace kv::detect {
namespace {

constexpr int kSize = 416;
constexpr int kClasses = 80;
constexpr int kCols = 5 + kClasses;

// Row index of grid cell (gx, gy) at `stride` in the concatenated output.
int row_of(int stride, int gx, int gy) {
  int base = 0;
  for (int s : {8, 16, 32}) {
    const int g = kSize / s;
    if (s == stride) return base + gy * g + gx;
    base += g * g;
  }
  return -1;
}

// Writes a raw-head row that decodes to a box centred at (cx, cy) of size w x h.
void put(std::vector<float>& t, int stride, int gx, int gy, float cx, float cy, float w, float h,
         float obj, int cls, float prob) {
  float* p = t.data() + static_cast<size_t>(row_of(stride, gx, gy)) * kCols;
  p[0] = cx / stride - gx;
  p[1] = cy / stride - gy;
  p[2] = std::log(w / stride);
  p[3] = std::log(h / stride);
  p[4] = obj;
  p[5 + cls] = prob;
}

TEST(Yolox, RowCount) {
  EXPECT_EQ(yolox_rows(416), 3549);
  EXPECT_EQ(yolox_rows(640), 8400);
}

TEST(Yolox, DecodesGridOffsetsStridesAndExp) {
  std::vector<float> t(static_cast<size_t>(yolox_rows(kSize)) * kCols, 0.0f);
  put(t, 8, 10, 20, 85.0f, 163.0f, 24.0f, 40.0f, 0.9f, 0, 0.8f);     // person at stride 8
  put(t, 32, 5, 6, 176.0f, 208.0f, 120.0f, 90.0f, 0.95f, 16, 0.9f);  // dog at stride 32
  put(t, 16, 3, 3, 56.0f, 56.0f, 30.0f, 30.0f, 0.2f, 2, 0.9f);       // below threshold
  auto dets = decode_yolox(t.data(), yolox_rows(kSize), kCols, kSize, 0.3f);
  ASSERT_EQ(dets.size(), 2u);
  const Detection& person = dets[0].class_id == 0 ? dets[0] : dets[1];
  const Detection& dog = dets[0].class_id == 16 ? dets[0] : dets[1];
  EXPECT_NEAR(person.score, 0.72f, 1e-5);
  EXPECT_NEAR(person.box.x, 85 - 12, 1e-3);
  EXPECT_NEAR(person.box.y, 163 - 20, 1e-3);
  EXPECT_NEAR(person.box.width, 24, 1e-3);
  EXPECT_NEAR(person.box.height, 40, 1e-3);
  EXPECT_EQ(dog.class_id, 16);
  EXPECT_NEAR(dog.score, 0.855f, 1e-5);
  EXPECT_NEAR(dog.box.x, 176 - 60, 1e-3);
  EXPECT_NEAR(dog.box.height, 90, 1e-3);
}

TEST(Yolox, PicksTheBestClass) {
  std::vector<float> t(static_cast<size_t>(yolox_rows(kSize)) * kCols, 0.0f);
  put(t, 16, 4, 4, 72, 72, 20, 20, 1.0f, 3, 0.4f);
  t[static_cast<size_t>(row_of(16, 4, 4)) * kCols + 5 + 7] = 0.6f;
  auto dets = decode_yolox(t.data(), yolox_rows(kSize), kCols, kSize, 0.3f);
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_EQ(dets[0].class_id, 7);
  EXPECT_NEAR(dets[0].score, 0.6f, 1e-6);
}

TEST(Yolox, DecodeThenNmsMergesNeighbouringCells) {
  std::vector<float> t(static_cast<size_t>(yolox_rows(kSize)) * kCols, 0.0f);
  // One object seen by three adjacent stride-8 cells, plus an overlapping box of another class.
  put(t, 8, 12, 12, 100, 100, 40, 80, 0.9f, 0, 0.9f);
  put(t, 8, 13, 12, 102, 101, 42, 78, 0.8f, 0, 0.9f);
  put(t, 8, 12, 13, 99, 103, 38, 82, 0.7f, 0, 0.9f);
  put(t, 16, 6, 6, 100, 100, 40, 80, 0.9f, 26, 0.5f);  // handbag, same place
  auto dets =
      nms_per_class(decode_yolox(t.data(), yolox_rows(kSize), kCols, kSize, 0.3f), 0.45f, 100);
  ASSERT_EQ(dets.size(), 2u);
  EXPECT_EQ(dets[0].class_id, 0);
  EXPECT_NEAR(dets[0].score, 0.81f, 1e-5);
  EXPECT_EQ(dets[1].class_id, 26);
}

}  // namespace
}  // namespace kv::detect
