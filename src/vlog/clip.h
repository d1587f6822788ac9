// kvision clip: a camera's frames of a time range, from raw_video_frames, as H.264 MP4 at the
// source's timing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "vlog/time_range.h"
#include "wire/frame_headers.h"

namespace kv::vlog {

// The clip's clock: a frame's time in the clip, in ms from its first frame. Within an ingest
// session it follows the frames' stream positions, so a stretch the camera lost (a reconnect)
// stays in the clip as a held frame and the clip lasts as long as the source did; a new
// session (ingest restarted) follows on one frame interval after the last frame.
class ClipClock {
 public:
  explicit ClipClock(double frame_interval_ms) : interval_ms_(frame_interval_ms) {}
  double time_of(const wire::FrameMeta& frame);

 private:
  double interval_ms_;
  bool started_ = false;
  int64_t session_us_ = 0;
  int64_t last_pos_ms_ = 0;
  double last_ms_ = 0;
};

// Constant-rate output: how many output frames each input frame is shown for, so that frame i
// starts as close as can be to its clip time. Every input frame is shown at least once.
class ConstantRate {
 public:
  explicit ConstantRate(double fps) : fps_(fps) {}
  // The previous frame's showings, given the next frame's clip time.
  int64_t showings_until(double next_ms);
  int64_t written() const { return written_; }

 private:
  double fps_;
  int64_t written_ = 0;
};

// The frame rate of a clip: from the median interval of the stream positions of the first
// frames of one session (25 fps when they say nothing).
double source_fps(const std::vector<wire::FrameMeta>& first_frames);

struct ClipParams {
  kafka::KafkaConfig kafka;
  std::string topic = "raw_video_frames";
  std::string camera;
  TimeRange range;
  std::filesystem::path output;
  double fps = 0;  // 0: the source's
  std::function<void(int64_t frames_read)> on_progress;
  std::stop_token stop;  // ends the reading early: the clip holds the frames read so far
};

struct ClipStats {
  int64_t frames_read = 0;     // this camera's frames in the range
  int64_t frames_written = 0;  // output frames, held frames included
  int64_t bad_frames = 0;      // records that were not a decodable frame, left out
  int sessions = 0;
  double fps = 0;
  double duration_s = 0;
  int64_t first_capture_ms = 0;
  int64_t last_capture_ms = 0;
  int cx = 0;
  int cy = 0;
  RangeScan scan;
};

// Reads the camera's frames in the range and writes the MP4. Errors: no frames (with the
// reason: empty_range_error), the topic missing, the brokers, or the file.
Result<ClipStats> make_clip(const ClipParams& params);

}  // namespace kv::vlog
