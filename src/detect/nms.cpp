#include "detect/nms.h"

#include <algorithm>

namespace kv::detect {

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

std::vector<Detection> nms_per_class(std::vector<Detection> candidates, float iou_threshold,
                                     size_t max_detections) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& c : candidates) {
    if (kept.size() >= max_detections) break;
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.class_id == c.class_id && iou(k.box, c.box) > iou_threshold;
    });
    if (!suppressed) kept.push_back(c);
  }
  return kept;
}

}  // namespace kv::detect
