#include "detect/darknet.h"

#include "common/assert.h"

namespace kv::detect {

std::vector<Detection> decode_darknet(const float* data, int rows, int cols, int image_w,
                                      int image_h, float score_threshold) {
  KV_ASSERT(cols > 5, "Darknet output needs box, objectness and class columns");
  std::vector<Detection> out;
  const float iw = static_cast<float>(image_w);
  const float ih = static_cast<float>(image_h);
  for (int i = 0; i < rows; ++i) {
    const float* p = data + static_cast<size_t>(i) * static_cast<size_t>(cols);
    int best = 0;
    for (int c = 1; c < cols - 5; ++c) {
      if (p[5 + c] > p[5 + best]) best = c;
    }
    const float score = p[5 + best];
    if (!(score >= score_threshold) || score <= 0) continue;
    const float w = p[2] * iw;
    const float h = p[3] * ih;
    out.push_back({best, score, cv::Rect2f(p[0] * iw - w / 2, p[1] * ih - h / 2, w, h)});
  }
  return out;
}

}  // namespace kv::detect
