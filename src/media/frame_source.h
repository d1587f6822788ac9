// Frame sources: a video file, an image folder, a V4L2 device or a stream URL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <opencv2/core/mat.hpp>

#include "common/result.h"

namespace kv::media {

enum class SourceKind { kFile, kImageFolder, kDevice, kStream };

const char* source_kind_name(SourceKind kind);

struct SourceInfo {
  SourceKind kind = SourceKind::kFile;
  std::string uri;
  double fps = 0;            // nominal frame rate; 0 if the source does not say
  int64_t frame_count = -1;  // -1 for live sources or when unknown
  int width = 0;
  int height = 0;
  bool is_live() const { return kind == SourceKind::kDevice || kind == SourceKind::kStream; }
};

struct RawFrame {
  cv::Mat bgr;
  int64_t index = 0;       // 0-based index of the decoded frame in the source
  double pos_ms = 0;       // position in the stream
  int64_t capture_us = 0;  // wall time at which the frame was grabbed
};

// Owns one decoder. Used by one thread at a time.
class FrameSource {
 public:
  virtual ~FrameSource() = default;

  // Opens `uri`. Errors: kNotFound for a missing path, kDecode for a file FFmpeg cannot
  // decode as video or a folder without images, kIo for devices and streams that do not open.
  static Result<std::unique_ptr<FrameSource>> open(const std::string& uri);

  const SourceInfo& info() const { return info_; }

  // Reads the next frame. Returns false at the end of the source. A file that ends well
  // before the frame count its container declares is reported as a kDecode error.
  virtual Result<bool> read(RawFrame& frame) = 0;

 protected:
  SourceInfo info_;
};

// Classifies a URI without opening it.
SourceKind classify_source(const std::string& uri);

}  // namespace kv::media
