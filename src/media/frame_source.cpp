#include "media/frame_source.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "common/clock.h"
#include "common/log.h"

namespace kv::media {
namespace fs = std::filesystem;

namespace {

// Image folders carry no timing; positions are spaced as if recorded at this rate.
constexpr double kImageFolderFps = 10.0;

bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// Video files, streams and devices, decoded by FFmpeg (V4L2 for devices).
class CaptureSource final : public FrameSource {
 public:
  explicit CaptureSource(const ReconnectPolicy& reconnect) : reconnect_(reconnect) {}

  Status open(const std::string& uri, SourceKind kind) {
    info_.kind = kind;
    info_.uri = uri;
    if (kind == SourceKind::kStream) {
      if (!open_stream("cannot open")) {
        return make_error(ErrorCode::kIo,
                          fmt::format("cannot open stream '{}' (tried {} time(s)): unreachable, "
                                      "or not a video stream FFmpeg can read",
                                      uri, reconnect_.attempts + 1));
      }
      return read_properties();
    }
    const int api = kind == SourceKind::kDevice ? cv::CAP_V4L2 : cv::CAP_FFMPEG;
    try {
      if (!cap_.open(uri, api)) {
        if (kind == SourceKind::kFile) {
          return make_error(
              ErrorCode::kDecode,
              fmt::format("'{}' is not a video FFmpeg can decode (no readable video "
                          "stream: wrong format, corrupt header or unsupported codec)",
                          uri));
        }
        return make_error(ErrorCode::kIo,
                          fmt::format("cannot open {} '{}'", source_kind_name(kind), uri));
      }
    } catch (const cv::Exception& e) {
      return make_error(ErrorCode::kIo, fmt::format("cannot open '{}': {}", uri, e.what()));
    }
    return read_properties();
  }

  Status read_properties() {
    const SourceKind kind = info_.kind;
    info_.fps = cap_.get(cv::CAP_PROP_FPS);
    if (!(info_.fps > 0 && info_.fps < 1000)) info_.fps = 0;
    info_.width = static_cast<int>(cap_.get(cv::CAP_PROP_FRAME_WIDTH));
    info_.height = static_cast<int>(cap_.get(cv::CAP_PROP_FRAME_HEIGHT));
    if (kind == SourceKind::kFile) {
      const double count = cap_.get(cv::CAP_PROP_FRAME_COUNT);
      info_.frame_count = count > 0 ? static_cast<int64_t>(count) : -1;
    }
    return ok_status();
  }

  Result<bool> read(RawFrame& frame) override {
    bool got = false;
    try {
      got = cap_.read(frame.bgr);
    } catch (const cv::Exception& e) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("decoding '{}' failed: {}", info_.uri, e.what()));
    }
    if ((!got || frame.bgr.empty()) && info_.kind == SourceKind::kStream) {
      // A live stream does not end: it dropped. Reconnect and go on with the next frame.
      log_warn("ingest: stream '{}' dropped after {} frames; reconnecting", info_.uri, next_index_);
      cap_.release();
      if (!open_stream("cannot reconnect to")) {
        return make_error(ErrorCode::kIo,
                          fmt::format("stream '{}' dropped and did not come back after {} "
                                      "attempt(s)",
                                      info_.uri, reconnect_.attempts + 1));
      }
      log_info("ingest: stream '{}' reconnected", info_.uri);
      try {
        got = cap_.read(frame.bgr);
      } catch (const cv::Exception&) {
        got = false;
      }
      if (!got || frame.bgr.empty()) {
        return make_error(ErrorCode::kIo,
                          fmt::format("stream '{}' reconnected but sends no frames", info_.uri));
      }
    }
    if (!got || frame.bgr.empty()) return end_of_stream();
    frame.capture_us = wall_now_us();
    frame.index = next_index_++;
    const double pos = cap_.get(cv::CAP_PROP_POS_MSEC);
    frame.pos_ms = pos >= 0 && next_index_ > 1 ? pos
                   : info_.fps > 0 ? static_cast<double>(frame.index) * 1000.0 / info_.fps
                                   : 0.0;
    // Devices have no stream clock: their position is the time since the first frame.
    if (info_.kind == SourceKind::kDevice) {
      if (!started_) {
        started_us_ = frame.capture_us;
        started_ = true;
      }
      frame.pos_ms = static_cast<double>(frame.capture_us - started_us_) / 1000.0;
    }
    return true;
  }

 private:
  Result<bool> end_of_stream() {
    if (info_.kind != SourceKind::kFile) return false;
    if (next_index_ == 0) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("'{}' contains no decodable video frames", info_.uri));
    }
    // Containers round their frame count; a shortfall of more than a couple of frames means
    // the file stops before its own index says it should.
    if (info_.frame_count > 0 && next_index_ + 2 < info_.frame_count) {
      return make_error(
          ErrorCode::kDecode,
          fmt::format("'{}' is truncated or corrupt: only {} of the {} frames its header "
                      "declares could be decoded",
                      info_.uri, next_index_, info_.frame_count));
    }
    return false;
  }

  // Opens the stream, retrying with a doubling backoff; false once the attempts are spent.
  bool open_stream(const char* what) {
    int backoff_ms = reconnect_.initial_backoff_ms;
    const std::vector<int> params = {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, reconnect_.io_timeout_ms,
                                     cv::CAP_PROP_READ_TIMEOUT_MSEC, reconnect_.io_timeout_ms};
    for (int attempt = 0;; ++attempt) {
      try {
        if (cap_.open(info_.uri, cv::CAP_FFMPEG, params)) return true;
      } catch (const cv::Exception& e) {
        log_debug("ingest: {}", e.what());
      }
      if (attempt >= reconnect_.attempts) return false;
      log_warn("ingest: {} stream '{}' (attempt {} of {}); retrying in {:.1f} s", what, info_.uri,
               attempt + 1, reconnect_.attempts + 1, backoff_ms / 1000.0);
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, reconnect_.max_backoff_ms);
    }
  }

  const ReconnectPolicy reconnect_;
  cv::VideoCapture cap_;
  int64_t next_index_ = 0;
  bool started_ = false;
  int64_t started_us_ = 0;
};

class ImageFolderSource final : public FrameSource {
 public:
  Status open(const std::string& dir) {
    info_.kind = SourceKind::kImageFolder;
    info_.uri = dir;
    info_.fps = kImageFolderFps;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && has_image_extension(entry.path()))
        files_.push_back(entry.path());
    }
    if (ec)
      return make_error(ErrorCode::kIo, fmt::format("cannot list '{}': {}", dir, ec.message()));
    if (files_.empty()) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("folder '{}' has no .jpg/.jpeg/.png/.bmp images", dir));
    }
    std::sort(files_.begin(), files_.end());
    info_.frame_count = static_cast<int64_t>(files_.size());
    return ok_status();
  }

  Result<bool> read(RawFrame& frame) override {
    while (next_ < files_.size()) {
      const fs::path& path = files_[next_];
      frame.index = static_cast<int64_t>(next_);
      ++next_;
      try {
        frame.bgr = cv::imread(path.string(), cv::IMREAD_COLOR);
      } catch (const cv::Exception& e) {
        frame.bgr.release();
      }
      if (frame.bgr.empty()) {
        // One unreadable image does not end the folder; it is reported and skipped.
        log_warn("skipping '{}': not a readable image", path.string());
        continue;
      }
      frame.capture_us = wall_now_us();
      frame.pos_ms = static_cast<double>(frame.index) * 1000.0 / kImageFolderFps;
      if (info_.width == 0) {
        info_.width = frame.bgr.cols;
        info_.height = frame.bgr.rows;
      }
      return true;
    }
    return false;
  }

 private:
  std::vector<fs::path> files_;
  size_t next_ = 0;
};

}  // namespace

const char* source_kind_name(SourceKind kind) {
  switch (kind) {
    case SourceKind::kFile:
      return "video file";
    case SourceKind::kImageFolder:
      return "image folder";
    case SourceKind::kDevice:
      return "device";
    case SourceKind::kStream:
      return "stream";
  }
  return "source";
}

SourceKind classify_source(const std::string& uri) {
  if (uri.find("://") != std::string::npos) return SourceKind::kStream;
  if (uri.rfind("/dev/video", 0) == 0) return SourceKind::kDevice;
  std::error_code ec;
  if (fs::is_directory(uri, ec)) return SourceKind::kImageFolder;
  return SourceKind::kFile;
}

Result<std::unique_ptr<FrameSource>> FrameSource::open(const std::string& uri,
                                                       const ReconnectPolicy& reconnect) {
  if (uri.empty()) return make_error(ErrorCode::kInvalidArgument, "no source given");
  const SourceKind kind = classify_source(uri);
  std::error_code ec;
  if (kind == SourceKind::kImageFolder) {
    auto src = std::make_unique<ImageFolderSource>();
    if (Status s = src->open(uri); !s) return s.error();
    return std::unique_ptr<FrameSource>(std::move(src));
  }
  if (kind == SourceKind::kFile || kind == SourceKind::kDevice) {
    if (!fs::exists(uri, ec))
      return make_error(ErrorCode::kNotFound, fmt::format("no such file: '{}'", uri));
  }
  if (kind == SourceKind::kFile) {
    if (!fs::is_regular_file(uri, ec)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("'{}' is not a regular file", uri));
    }
    if (fs::file_size(uri, ec) == 0)
      return make_error(ErrorCode::kDecode, fmt::format("'{}' is empty", uri));
  }
  auto src = std::make_unique<CaptureSource>(reconnect);
  if (Status s = src->open(uri, kind); !s) return s.error();
  return std::unique_ptr<FrameSource>(std::move(src));
}

}  // namespace kv::media
