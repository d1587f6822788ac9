#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/result.h"

namespace kv::media {

// Encodes an 8-bit BGR (or grey, or BGRA) image; quality is 1..100.
Result<std::vector<uint8_t>> encode_jpeg(const cv::Mat& image, int quality);

// Decodes JPEG bytes to a BGR image. Anything that is not a complete JPEG (wrong magic,
// truncated, corrupt) is a kDecode error; other image formats are rejected, not guessed.
Result<cv::Mat> decode_jpeg(std::span<const uint8_t> bytes);

// Decodes at the smallest of libjpeg's fast scales (1/8, 2/8, 4/8, 8/8, applied inside the
// IDCT, so the work shrinks with it) whose image still covers `at_least` in both dimensions,
// e.g. a model's input: a 1920x1080 frame for a 416x416 model decodes at 4/8 (960x540), a
// 768x576 one whole (4/8 would be 384 wide). `original` receives the full size, for mapping
// coordinates back. Same checks and errors as decode_jpeg().
Result<cv::Mat> decode_jpeg_at_least(std::span<const uint8_t> bytes, cv::Size at_least,
                                     cv::Size* original);

// The same, with the size to cover worked out from the frame's own size (read from the JPEG
// header once), e.g. Detector::source_size_for.
Result<cv::Mat> decode_jpeg_at_least(std::span<const uint8_t> bytes,
                                     const std::function<cv::Size(cv::Size frame)>& at_least,
                                     cv::Size* original);

// Largest frame decode_jpeg() accepts: a hostile header must not make a worker allocate
// gigabytes. 8K UHD (7680x4320) fits easily.
inline constexpr int kMaxJpegSide = 16384;
inline constexpr int64_t kMaxJpegPixels = int64_t{1} << 26;

// Width and height from the JPEG's frame header (SOFn), without decoding.
Result<cv::Size> jpeg_dimensions(std::span<const uint8_t> bytes);

// True when the bytes start with a JPEG SOI marker.
bool looks_like_jpeg(std::span<const uint8_t> bytes);

}  // namespace kv::media
