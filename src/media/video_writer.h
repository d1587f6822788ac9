// Writes frames as H.264 in an MP4 file, through OpenCV's FFmpeg backend (libx264).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include <opencv2/core.hpp>

#include "common/result.h"

namespace kv::media {

// Lifecycle: open() -> write()... -> close(). The file is written beside `path` under a
// temporary name and renamed on close(), so a clip that fails half-way leaves nothing behind.
// Not thread-safe.
class Mp4Writer {
 public:
  // Every frame must be `size`; fps is the constant frame rate of the file.
  static Result<std::unique_ptr<Mp4Writer>> open(const std::filesystem::path& path, double fps,
                                                 cv::Size size);
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  // A BGR frame; another size is scaled to the file's.
  Status write(const cv::Mat& bgr);
  // Finishes the file and moves it to its path.
  Status close();
  int64_t frames() const { return frames_; }

 private:
  struct Impl;
  explicit Mp4Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int64_t frames_ = 0;
};

}  // namespace kv::media
