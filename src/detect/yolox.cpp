#include "detect/yolox.h"

#include <cmath>

#include "common/assert.h"

namespace kv::detect {
namespace {
constexpr int kStrides[] = {8, 16, 32};
}

int yolox_rows(int input_size) {
  int rows = 0;
  for (int s : kStrides) rows += (input_size / s) * (input_size / s);
  return rows;
}

std::vector<Detection> decode_yolox(const float* data, int rows, int cols, int input_size,
                                    float score_threshold) {
  KV_ASSERT(rows == yolox_rows(input_size), "YOLOX output rows do not match the input size");
  KV_ASSERT(cols > 5, "YOLOX output needs box, objectness and class columns");
  std::vector<Detection> out;
  int row = 0;
  for (int stride : kStrides) {
    const int grid = input_size / stride;
    for (int gy = 0; gy < grid; ++gy) {
      for (int gx = 0; gx < grid; ++gx, ++row) {
        const float* p = data + static_cast<size_t>(row) * cols;
        const float objectness = p[4];
        if (objectness < score_threshold) continue;  // score <= objectness: cheap early exit
        int best = 0;
        for (int c = 1; c < cols - 5; ++c) {
          if (p[5 + c] > p[5 + best]) best = c;
        }
        const float score = objectness * p[5 + best];
        if (score < score_threshold) continue;
        const float cx = (p[0] + static_cast<float>(gx)) * static_cast<float>(stride);
        const float cy = (p[1] + static_cast<float>(gy)) * static_cast<float>(stride);
        const float w = std::exp(p[2]) * static_cast<float>(stride);
        const float h = std::exp(p[3]) * static_cast<float>(stride);
        out.push_back({best, score, cv::Rect2f(cx - w / 2, cy - h / 2, w, h)});
      }
    }
  }
  return out;
}

}  // namespace kv::detect
