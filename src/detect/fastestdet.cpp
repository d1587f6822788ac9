#include "detect/fastestdet.h"

#include <cmath>

#include "common/assert.h"

namespace kv::detect {

std::vector<Detection> decode_fastestdet(const float* data, int channels, int grid_h, int grid_w,
                                         int image_w, int image_h, float score_threshold) {
  KV_ASSERT(channels > 5 && grid_h > 0 && grid_w > 0, "FastestDet output shape");
  const size_t plane = static_cast<size_t>(grid_h) * static_cast<size_t>(grid_w);
  auto at = [&](int c, size_t cell) { return data[static_cast<size_t>(c) * plane + cell]; };
  std::vector<Detection> out;
  for (int r = 0; r < grid_h; ++r) {
    for (int c = 0; c < grid_w; ++c) {
      const size_t cell =
          static_cast<size_t>(r) * static_cast<size_t>(grid_w) + static_cast<size_t>(c);
      const float objectness = at(0, cell);
      int best = 0;
      for (int k = 1; k < channels - 5; ++k) {
        if (at(5 + k, cell) > at(5 + best, cell)) best = k;
      }
      // score = obj^0.6 * class^0.4
      const float score = std::pow(objectness, 0.6f) * std::pow(at(5 + best, cell), 0.4f);
      if (!(score >= score_threshold)) continue;
      const float cx =
          (static_cast<float>(c) + std::tanh(at(1, cell))) / static_cast<float>(grid_w);
      const float cy =
          (static_cast<float>(r) + std::tanh(at(2, cell))) / static_cast<float>(grid_h);
      const float w = 1.0f / (1.0f + std::exp(-at(3, cell)));
      const float h = 1.0f / (1.0f + std::exp(-at(4, cell)));
      const float iw = static_cast<float>(image_w);
      const float ih = static_cast<float>(image_h);
      out.push_back(
          {best, score, cv::Rect2f((cx - w / 2) * iw, (cy - h / 2) * ih, w * iw, h * ih)});
    }
  }
  return out;
}

}  // namespace kv::detect
