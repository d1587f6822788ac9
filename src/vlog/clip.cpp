#include "vlog/clip.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "common/log.h"
#include "media/jpeg.h"
#include "media/video_writer.h"

namespace kv::vlog {

double ClipClock::time_of(const wire::FrameMeta& frame) {
  if (!started_) {
    started_ = true;
    last_ms_ = 0;
  } else if (frame.session_us != session_us_ || frame.stream_pos_ms < last_pos_ms_) {
    last_ms_ += interval_ms_;
  } else {
    last_ms_ += static_cast<double>(frame.stream_pos_ms - last_pos_ms_);
  }
  session_us_ = frame.session_us;
  last_pos_ms_ = frame.stream_pos_ms;
  return last_ms_;
}

int64_t ConstantRate::showings_until(double next_ms) {
  const auto slot = static_cast<int64_t>(std::llround(next_ms * fps_ / 1000.0));
  const int64_t n = std::max<int64_t>(1, slot - written_);
  written_ += n;
  return n;
}

double source_fps(const std::vector<wire::FrameMeta>& first_frames) {
  std::vector<int64_t> steps;
  for (size_t i = 1; i < first_frames.size(); ++i) {
    const wire::FrameMeta& a = first_frames[i - 1];
    const wire::FrameMeta& b = first_frames[i];
    if (a.session_us == b.session_us && b.stream_pos_ms > a.stream_pos_ms)
      steps.push_back(b.stream_pos_ms - a.stream_pos_ms);
  }
  if (steps.empty()) return 25.0;
  std::nth_element(steps.begin(), steps.begin() + static_cast<long>(steps.size() / 2), steps.end());
  const double fps = 1000.0 / static_cast<double>(steps[steps.size() / 2]);
  return std::clamp(fps, 1.0, 120.0);
}

namespace {

struct Pending {
  wire::FrameMeta meta;
  std::vector<uint8_t> jpeg;
};

// Writes frames as they come, one behind: a frame's showings are known when the next arrives.
// The first frames are held until the frame rate is known.
class ClipWriter {
 public:
  ClipWriter(const ClipParams& params, ClipStats& stats) : params_(params), stats_(stats) {}

  Status add(wire::FrameMeta meta, std::span<const uint8_t> jpeg) {
    if (!rate_) {
      head_.push_back({std::move(meta), {jpeg.begin(), jpeg.end()}});
      if (head_.size() < kHeadFrames) return ok_status();
      return start();
    }
    return push(std::move(meta), jpeg);
  }

  Status finish() {
    if (!rate_ && !head_.empty()) {
      if (Status s = start(); !s) return s;
    }
    if (!writer_) return ok_status();
    if (Status s = show(last_, 1); !s) return s;
    stats_.frames_written = writer_->frames();
    stats_.duration_s = static_cast<double>(writer_->frames()) / stats_.fps;
    return writer_->close();
  }

 private:
  static constexpr size_t kHeadFrames = 16;

  Status start() {
    std::vector<wire::FrameMeta> metas;
    for (const Pending& p : head_) metas.push_back(p.meta);
    stats_.fps = params_.fps > 0 ? params_.fps : source_fps(metas);
    rate_ = std::make_unique<ConstantRate>(stats_.fps);
    clock_ = std::make_unique<ClipClock>(1000.0 / stats_.fps);
    std::vector<Pending> head = std::move(head_);
    for (Pending& p : head) {
      if (Status s = push(std::move(p.meta), p.jpeg); !s) return s;
    }
    return ok_status();
  }

  Status push(wire::FrameMeta meta, std::span<const uint8_t> jpeg) {
    auto image = media::decode_jpeg(jpeg);
    if (!image) {
      ++stats_.bad_frames;
      log_warn("clip: frame {} of camera '{}' left out: {}", meta.seq, meta.camera,
               image.error().message);
      return ok_status();
    }
    const double t = clock_->time_of(meta);
    if (!writer_) {
      auto w = media::Mp4Writer::open(params_.output, stats_.fps, image->size());
      if (!w) return w.error();
      writer_ = std::move(*w);
      stats_.cx = image->cols;
      stats_.cy = image->rows;
    } else if (Status s = show(last_, rate_->showings_until(t)); !s) {
      return s;
    }
    last_ = std::move(*image);
    return ok_status();
  }

  Status show(const cv::Mat& image, int64_t times) {
    for (int64_t i = 0; i < times; ++i) {
      if (Status s = writer_->write(image); !s) return s;
    }
    return ok_status();
  }

  const ClipParams& params_;
  ClipStats& stats_;
  std::vector<Pending> head_;
  std::unique_ptr<ConstantRate> rate_;
  std::unique_ptr<ClipClock> clock_;
  std::unique_ptr<media::Mp4Writer> writer_;
  cv::Mat last_;
};

}  // namespace

Result<ClipStats> make_clip(const ClipParams& params) {
  if (params.camera.empty())
    return make_error(ErrorCode::kInvalidArgument, "a clip needs a camera (--camera)");
  ClipStats stats;
  ClipWriter writer(params, stats);
  Status failed = ok_status();
  int64_t last_session = -1;
  auto scan = read_time_range(
      params.kafka, params.topic, params.camera, params.range,
      [&](const kafka::Message& m) {
        if (!failed) return;
        auto meta = wire::decode_frame_headers(m.headers());
        if (!meta) {
          ++stats.bad_frames;
          log_warn("clip: {} left out: {}", m.where(), meta.error().message);
          return;
        }
        if (stats.frames_read == 0) stats.first_capture_ms = meta->capture_us / 1000;
        stats.last_capture_ms = meta->capture_us / 1000;
        if (meta->session_us != last_session) ++stats.sessions;
        last_session = meta->session_us;
        ++stats.frames_read;
        failed = writer.add(std::move(*meta), m.value());
        if (params.on_progress && stats.frames_read % 100 == 0)
          params.on_progress(stats.frames_read);
      },
      params.stop);
  if (!scan) return scan.error();
  stats.scan = *scan;
  if (!failed) return failed.error();
  if (stats.frames_read == 0)
    return empty_range_error(params.topic, params.camera, params.range, *scan);
  if (Status s = writer.finish(); !s) return s.error();
  return stats;
}

}  // namespace kv::vlog
