#pragma once

#include <opencv2/core/types.hpp>

namespace kv::detect {

struct Detection {
  int class_id = 0;
  float score = 0;  // 0..1
  cv::Rect2f box;   // x, y, width, height in pixels of whatever image it refers to
};

}  // namespace kv::detect
