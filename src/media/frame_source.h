// Frame sources: a video file, an image folder, a V4L2 device or a stream URL.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
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
  int64_t gap_ms = 0;      // streams: time lost to a reconnect just before this frame
};

// A stream's connection: UP while frames arrive, RECONNECTING while the retries last, DOWN
// once they are spent.
enum class LinkState { kUp, kReconnecting, kDown };

// How a stream URL is retried: when it cannot be opened, and when it drops mid-way.
struct ReconnectPolicy {
  int attempts = 5;  // retries before the stream is DOWN; 0: none
  // Once DOWN: false fails the read (one camera per process), true goes on retrying every
  // max_backoff_ms until the stream is back or `stop` is requested (a camera among many).
  bool keep_trying = false;
  int initial_backoff_ms = 500;
  int max_backoff_ms = 8000;  // the wait doubles up to this
  int io_timeout_ms = 10000;  // FFmpeg's open and read timeouts for streams
  std::stop_token stop;       // cuts the waits between attempts short
  // Told of each change of the link, with the reason, on the reading thread.
  std::function<void(LinkState, const std::string& why)> on_link;
};

// Owns one decoder. Used by one thread at a time.
class FrameSource {
 public:
  virtual ~FrameSource() = default;

  // Opens `uri`. Errors: kNotFound for a missing path, kDecode for a file FFmpeg cannot
  // decode as video or a folder without images, kIo for devices and streams that do not open.
  // Stream URLs are retried per `reconnect`, with a warning for each attempt; kCancelled when
  // `reconnect.stop` ends the attempts.
  static Result<std::unique_ptr<FrameSource>> open(const std::string& uri,
                                                   const ReconnectPolicy& reconnect = {});

  const SourceInfo& info() const { return info_; }

  // Reads the next frame. Returns false at the end of the source. A file that ends well
  // before the frame count its container declares is reported as a kDecode error. A stream
  // that drops is reconnected; one that does not come back is a kIo error.
  virtual Result<bool> read(RawFrame& frame) = 0;

 protected:
  SourceInfo info_;
};

// Classifies a URI without opening it.
SourceKind classify_source(const std::string& uri);

// The URI as it may be logged and published: a password in it is replaced by "***".
std::string redact_uri(const std::string& uri);

}  // namespace kv::media
