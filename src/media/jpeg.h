#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/result.h"

namespace kv::media {

// Encodes a BGR image; quality is 1..100.
Result<std::vector<uint8_t>> encode_jpeg(const cv::Mat& bgr, int quality);

// Decodes JPEG bytes to a BGR image. Anything that is not a complete JPEG (wrong magic,
// truncated, corrupt) is a kDecode error; other image formats are rejected, not guessed.
Result<cv::Mat> decode_jpeg(std::span<const uint8_t> bytes);

// Largest frame decode_jpeg() accepts: a hostile header must not make a worker allocate
// gigabytes. 8K UHD (7680x4320) fits easily.
inline constexpr int kMaxJpegSide = 16384;
inline constexpr int64_t kMaxJpegPixels = int64_t{1} << 26;

// Width and height from the JPEG's frame header (SOFn), without decoding.
Result<cv::Size> jpeg_dimensions(std::span<const uint8_t> bytes);

// True when the bytes start with a JPEG SOI marker.
bool looks_like_jpeg(std::span<const uint8_t> bytes);

}  // namespace kv::media
