#include "media/jpeg.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

namespace kv::media {

bool looks_like_jpeg(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

Result<std::vector<uint8_t>> encode_jpeg(const cv::Mat& bgr, int quality) {
  if (bgr.empty()) return make_error(ErrorCode::kInvalidArgument, "cannot encode an empty image");
  if (quality < 1 || quality > 100) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("JPEG quality {} is outside 1..100", quality));
  }
  std::vector<uint8_t> out;
  try {
    if (!cv::imencode(".jpg", bgr, out, {cv::IMWRITE_JPEG_QUALITY, quality})) {
      return make_error(ErrorCode::kIo, "JPEG encoder failed");
    }
  } catch (const cv::Exception& e) {
    return make_error(ErrorCode::kIo, fmt::format("JPEG encoder failed: {}", e.what()));
  }
  return out;
}

Result<cv::Mat> decode_jpeg(std::span<const uint8_t> bytes) {
  if (!looks_like_jpeg(bytes)) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("value is not a JPEG ({} bytes, no SOI marker)", bytes.size()));
  }
  // An EOI marker at the end tells a complete image from a truncated one, which libjpeg
  // would otherwise pad with grey and report as success.
  const size_t n = bytes.size();
  if (!(bytes[n - 2] == 0xFF && bytes[n - 1] == 0xD9)) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("JPEG is truncated ({} bytes, no EOI marker)", n));
  }
  cv::Mat out;
  try {
    // imdecode does not modify the buffer; the const_cast only satisfies its signature.
    const cv::Mat buf(1, static_cast<int>(n), CV_8UC1, const_cast<uint8_t*>(bytes.data()));
    out = cv::imdecode(buf, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return make_error(ErrorCode::kDecode, fmt::format("JPEG decoder failed: {}", e.what()));
  }
  if (out.empty()) return make_error(ErrorCode::kDecode, fmt::format("corrupt JPEG ({} bytes)", n));
  return out;
}

}  // namespace kv::media
