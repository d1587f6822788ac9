#pragma once

#include <opencv2/core/mat.hpp>

#include "detect/detection.h"

namespace kv::detect {

// How an image was fitted into the model input: scaled by `scale` and pasted at the top-left.
struct LetterboxInfo {
  float scale = 1;
  cv::Size original;
};

// Resizes `bgr` by r = min(W/w, H/h) to (int(w*r), int(h*r)) with bilinear filtering and pastes
// it at the top-left of a WxH canvas filled with `pad_value` (YOLOX's preprocessing).
LetterboxInfo letterbox_top_left(const cv::Mat& bgr, cv::Size input, int pad_value,
                                 cv::Mat& canvas);

// Maps a box from model-input pixels back to original-frame pixels, clipped to the frame.
cv::Rect2f unletterbox(const cv::Rect2f& box, const LetterboxInfo& info);

}  // namespace kv::detect
