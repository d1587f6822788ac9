#pragma once

#include <vector>

#include "detect/detection.h"

namespace kv::detect {

float iou(const cv::Rect2f& a, const cv::Rect2f& b);

// Greedy per-class non-maximum suppression: keeps the highest-scoring box of each cluster
// whose IoU with a kept box of the same class exceeds `iou_threshold`. The result is sorted by
// descending score and holds at most `max_detections` boxes.
std::vector<Detection> nms_per_class(std::vector<Detection> candidates, float iou_threshold,
                                     size_t max_detections);

}  // namespace kv::detect
