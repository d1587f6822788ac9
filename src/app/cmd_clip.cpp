// kvision clip: a camera's frames of a time range, read back from raw_video_frames, as an
// H.264 MP4 at the source's timing.

#include <cstdio>
#include <memory>
#include <string>

#include "app/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/units.h"
#include "vlog/clip.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct ClipOptions {
  KafkaOptions kafka;
  std::string topic{wire::kRawFramesTopic};
  std::string camera;
  std::string from;
  std::string to;
  std::string output;
  double fps = 0;
};

int run_clip(const ClipOptions& o) {
  vlog::ClipParams p;
  p.topic = o.topic;
  p.camera = o.camera;
  p.output = o.output;
  p.fps = o.fps;
  auto range = vlog::parse_time_range(o.from, o.to);
  if (!range) return report_error("clip", range.error());
  p.range = *range;
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("clip", config.error());
  p.kafka = *config;
  std::stop_source stop;
  SignalBridge bridge(stop);
  p.stop = stop.get_token();
  p.on_progress = [](int64_t n) { log_info("clip: {} frames read", n); };
  const Stopwatch clock;
  auto stats = vlog::make_clip(p);
  if (!stats) return report_error("clip", stats.error());
  std::printf(
      "CLIP camera=%s frames=%lld written=%lld fps=%.2f duration_s=%.2f size=%dx%d "
      "first=%s last=%s sessions=%d bad=%lld read_records=%lld read_mb=%.1f seconds=%.2f "
      "output=%s\n",
      o.camera.c_str(), static_cast<long long>(stats->frames_read),
      static_cast<long long>(stats->frames_written), stats->fps, stats->duration_s, stats->cx,
      stats->cy, format_time_ms(stats->first_capture_ms).c_str(),
      format_time_ms(stats->last_capture_ms).c_str(), stats->sessions,
      static_cast<long long>(stats->bad_frames), static_cast<long long>(stats->scan.records_read),
      static_cast<double>(stats->scan.bytes_read) / 1e6, clock.elapsed_ms() / 1000.0,
      o.output.c_str());
  return kExitOk;
}

}  // namespace

void add_clip_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ClipOptions>();
  CLI::App* cmd = app.add_subcommand(
      "clip",
      "Write a camera's frames of a time range, read back from raw_video_frames, as an H.264 "
      "MP4 at the source's timing");
  cmd->footer(
      "Times are ISO-8601 in UTC (2026-12-03T13:40:00Z, fractions allowed) or milliseconds "
      "since the epoch, and select frames by capture time. Frames are found with Kafka's "
      "timestamp lookup, so a clip reads only its range (plus up to 5 s after it). A range "
      "older than the topic's retention, or in which the camera sent nothing, is an error that "
      "says so. Example:\n  kvision clip --camera lobby --from 2026-12-03T13:40:00Z --to "
      "2026-12-03T13:41:00Z --output lobby.mp4");
  add_kafka_options(cmd, o->kafka);
  cmd->add_option("--camera", o->camera, "Camera id (the frames' key)")->required();
  cmd->add_option("--from", o->from, "Start time, inclusive")->required();
  cmd->add_option("--to", o->to, "End time, inclusive")->required();
  cmd->add_option("-o,--output", o->output, "MP4 file to write")->required();
  cmd->add_option("--topic", o->topic, "Frames topic")->capture_default_str();
  cmd->add_option("--fps", o->fps,
                  "Frame rate of the file (default: the source's, from the frames' stream "
                  "positions); frames are held or repeated to keep their timing")
      ->check(CLI::Range(0.0, 120.0));
  cmd->callback([o, &action] { action = [o] { return run_clip(*o); }; });
}

}  // namespace kv::app
