#include "detect/letterbox.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "common/assert.h"

namespace kv::detect {

LetterboxInfo letterbox_top_left(const cv::Mat& bgr, cv::Size input, int pad_value,
                                 cv::Mat& canvas) {
  KV_ASSERT(!bgr.empty() && input.width > 0 && input.height > 0, "letterbox of an empty image");
  LetterboxInfo info;
  info.original = bgr.size();
  info.scale = std::min(static_cast<float>(input.width) / static_cast<float>(bgr.cols),
                        static_cast<float>(input.height) / static_cast<float>(bgr.rows));
  const cv::Size scaled(std::max(1, static_cast<int>(static_cast<float>(bgr.cols) * info.scale)),
                        std::max(1, static_cast<int>(static_cast<float>(bgr.rows) * info.scale)));
  canvas.create(input, CV_8UC3);
  canvas.setTo(cv::Scalar::all(pad_value));
  cv::Mat roi = canvas(cv::Rect(cv::Point(0, 0), scaled));
  cv::resize(bgr, roi, scaled, 0, 0, cv::INTER_LINEAR);
  return info;
}

cv::Rect2f unletterbox(const cv::Rect2f& box, const LetterboxInfo& info) {
  const float w = static_cast<float>(info.original.width);
  const float h = static_cast<float>(info.original.height);
  const float x0 = std::clamp(box.x / info.scale, 0.0f, w);
  const float y0 = std::clamp(box.y / info.scale, 0.0f, h);
  const float x1 = std::clamp((box.x + box.width) / info.scale, 0.0f, w);
  const float y1 = std::clamp((box.y + box.height) / info.scale, 0.0f, h);
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace kv::detect
