#include "media/frame_source.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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

// Host and port of a network URL (rtsp://user:pw@host:port/path), with the scheme's default
// port; nullopt for schemes without one.
std::optional<std::pair<std::string, std::string>> host_port(const std::string& uri) {
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  std::string scheme = uri.substr(0, scheme_end);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string port = scheme == "rtsp" || scheme == "rtsps" ? "554"
                     : scheme == "http"                    ? "80"
                     : scheme == "https"                   ? "443"
                     : scheme == "rtmp"                    ? "1935"
                                                           : "";
  if (port.empty()) return std::nullopt;
  std::string authority = uri.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string::npos)
    authority = authority.substr(at + 1);
  std::string host = authority;
  if (!authority.empty() && authority[0] == '[') {  // [ipv6]:port
    const size_t close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || port.empty()) return std::nullopt;
  return std::make_pair(host, port);
}

// Whether a TCP connection to the stream's server opens within timeout_ms. OpenCV opens one
// capture at a time in a process, so a camera that is away must not hold that lock for its
// whole timeout: this check, outside it, turns most such attempts away first.
bool server_answers(const std::string& uri, int timeout_ms, std::string& why) {
  const auto hp = host_port(uri);
  if (!hp) return true;  // not a TCP scheme we know: FFmpeg decides
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(hp->first.c_str(), hp->second.c_str(), &hints, &found); rc != 0) {
    why = fmt::format("cannot resolve '{}': {}", hp->first, ::gai_strerror(rc));
    return false;
  }
  bool ok = false;
  why = fmt::format("no answer from {}:{} within {} ms", hp->first, hp->second, timeout_ms);
  for (addrinfo* a = found; a != nullptr && !ok; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        ok = err == 0;
        if (!ok) why = fmt::format("{}:{}: {}", hp->first, hp->second, std::strerror(err));
      }
    } else {
      why = fmt::format("{}:{}: {}", hp->first, hp->second, std::strerror(errno));
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return ok;
}

// Video files, streams and devices, decoded by FFmpeg (V4L2 for devices).
class CaptureSource final : public FrameSource {
 public:
  explicit CaptureSource(const ReconnectPolicy& reconnect) : reconnect_(reconnect) {}

  Status open(const std::string& uri, SourceKind kind) {
    info_.kind = kind;
    info_.uri = uri;
    if (kind == SourceKind::kStream) {
      if (Status s = connect("cannot open"); !s) {
        if (s.error().code == ErrorCode::kCancelled) return s;
        return make_error(ErrorCode::kIo, fmt::format("cannot open stream '{}': {}",
                                                      redact_uri(uri), s.error().message));
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
    if (!first_.empty()) {  // read by connect()
      frame.bgr = std::move(first_);
      first_ = cv::Mat();
      got = true;
    } else {
      try {
        got = cap_.read(frame.bgr);
      } catch (const cv::Exception& e) {
        return make_error(ErrorCode::kDecode,
                          fmt::format("decoding '{}' failed: {}", info_.uri, e.what()));
      }
    }
    if ((!got || frame.bgr.empty()) && info_.kind == SourceKind::kStream) {
      // A live stream does not end: it dropped. Reconnect and go on with the next frame.
      auto back = reconnect_and_read(frame);
      if (!back) return back.error();
      if (!*back) return false;  // stopped while reconnecting
      got = true;
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
    frame.gap_ms = 0;
    if (info_.kind == SourceKind::kStream) {
      // A reconnected stream's clock starts again; positions go on from before the drop,
      // plus the time it was away.
      if (pending_gap_ms_ >= 0) {
        frame.gap_ms = pending_gap_ms_;
        pos_offset_ms_ = last_pos_ms_ + static_cast<double>(pending_gap_ms_) - frame.pos_ms;
        pending_gap_ms_ = -1;
      }
      frame.pos_ms += pos_offset_ms_;
      last_pos_ms_ = frame.pos_ms;
      last_frame_ms_ = mono_now_ms();
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

  // After a drop: reconnects and reads the first frame. False when stopped meanwhile.
  Result<bool> reconnect_and_read(RawFrame& frame) {
    const std::string uri = redact_uri(info_.uri);
    log_warn("ingest: stream '{}' dropped after {} frames; reconnecting", uri, next_index_);
    set_link(LinkState::kReconnecting, fmt::format("dropped after {} frames", next_index_));
    cap_.release();
    if (Status s = connect("cannot reconnect to"); !s) {
      if (s.error().code == ErrorCode::kCancelled) return false;
      return make_error(ErrorCode::kIo, fmt::format("stream '{}' dropped and did not come back: {}",
                                                    uri, s.error().message));
    }
    frame.bgr = std::move(first_);
    first_ = cv::Mat();
    if (last_frame_ms_ > 0) pending_gap_ms_ = mono_now_ms() - last_frame_ms_;
    log_info("ingest: stream '{}' reconnected", uri);
    return true;
  }

  void set_link(LinkState state, const std::string& why) {
    if (link_known_ && state == link_) return;
    link_ = state;
    link_known_ = true;
    if (reconnect_.on_link) reconnect_.on_link(state, why);
  }

  // Waits `ms`, or less when stop is requested; false then.
  bool wait_ms(int ms) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    cv.wait_for(lock, reconnect_.stop, std::chrono::milliseconds(ms), [] { return false; });
    return !reconnect_.stop.stop_requested();
  }

  // Opens the stream, retrying with a doubling backoff. Once the attempts are spent the
  // stream is DOWN: an error, or with keep_trying a retry every max_backoff_ms.
  Status connect(const char* what) {
    const std::string uri = redact_uri(info_.uri);
    int backoff_ms = reconnect_.initial_backoff_ms;
    const std::vector<int> params = {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, reconnect_.io_timeout_ms,
                                     cv::CAP_PROP_READ_TIMEOUT_MSEC, reconnect_.io_timeout_ms};
    for (int attempt = 0;; ++attempt) {
      if (reconnect_.stop.stop_requested()) return make_error(ErrorCode::kCancelled, "stopped");
      std::string why;
      if (server_answers(info_.uri, reconnect_.io_timeout_ms, why)) {
        // Connected means a frame arrived: an open that timed out half-way reads nothing.
        why = fmt::format(
            "the server takes connections, but FFmpeg opened no video stream there within {} ms",
            reconnect_.io_timeout_ms);
        try {
          if (cap_.open(info_.uri, cv::CAP_FFMPEG, params)) {
            why =
                fmt::format("opened, but no frame arrived within {} ms", reconnect_.io_timeout_ms);
            if (cap_.read(first_) && !first_.empty()) {
              set_link(LinkState::kUp, "connected");
              return ok_status();
            }
            first_ = cv::Mat();
            cap_.release();
          }
        } catch (const cv::Exception& e) {
          log_debug("ingest: {}", e.what());
          cap_.release();
        }
      }
      if (reconnect_.stop.stop_requested()) return make_error(ErrorCode::kCancelled, "stopped");
      const bool spent = attempt >= reconnect_.attempts;
      if (spent) {
        why = fmt::format("{} it after {} attempt(s): {}", what, reconnect_.attempts + 1, why);
        if (link_ != LinkState::kDown || !link_known_) {
          log_error("ingest: stream '{}' is DOWN: {}{}", uri, why,
                    reconnect_.keep_trying ? fmt::format("; DOWN, retrying every {:.0f} s",
                                                         reconnect_.max_backoff_ms / 1000.0)
                                           : "");
        }
        set_link(LinkState::kDown, why);
        if (!reconnect_.keep_trying) return make_error(ErrorCode::kIo, why);
        backoff_ms = reconnect_.max_backoff_ms;
      } else {
        set_link(LinkState::kReconnecting, fmt::format("{} stream: {}", what, why));
        log_warn("ingest: {} stream '{}' (attempt {} of {}: {}); retrying in {:.1f} s", what, uri,
                 attempt + 1, reconnect_.attempts + 1, why, backoff_ms / 1000.0);
      }
      if (!wait_ms(backoff_ms)) return make_error(ErrorCode::kCancelled, "stopped");
      backoff_ms = std::min(backoff_ms * 2, reconnect_.max_backoff_ms);
    }
  }

  const ReconnectPolicy reconnect_;
  cv::VideoCapture cap_;
  int64_t next_index_ = 0;
  cv::Mat first_;  // the frame connect() read to know the stream works; read() returns it
  LinkState link_ = LinkState::kReconnecting;
  bool link_known_ = false;
  int64_t last_frame_ms_ = 0;    // monotonic time of the last frame (streams)
  int64_t pending_gap_ms_ = -1;  // set by a reconnect, given to the next frame
  double last_pos_ms_ = 0;
  double pos_offset_ms_ = 0;
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

std::string redact_uri(const std::string& uri) {
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) return uri;
  const size_t host_start = scheme + 3;
  const size_t path = uri.find('/', host_start);
  const size_t at = uri.rfind('@', path == std::string::npos ? std::string::npos : path);
  if (at == std::string::npos || at < host_start) return uri;
  const size_t colon = uri.find(':', host_start);
  if (colon == std::string::npos || colon > at) return uri;  // a user name alone
  return uri.substr(0, colon + 1) + "***" + uri.substr(at);
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
