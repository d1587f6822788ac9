// kvision ingest: a video source -> JPEG frames on raw_video_frames.
#include <unistd.h>

#include <memory>

#include "app/cli.h"
#include "common/log.h"
#include "common/stop.h"
#include "pipeline/camera_set.h"
#include "pipeline/ingest.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct IngestOptions {
  KafkaOptions kafka;
  MetricsOptions metrics;
  pipeline::IngestParams params;
  kafka::TopicSettings topics;
  bool no_progress = false;
  std::string cameras_file;
};

// --cameras FILE: every camera of the file in this process, changed at runtime.
int run_cameras_command(IngestOptions& o) {
  pipeline::CameraFileRun run;
  run.path = o.cameras_file;
  run.base = o.params;
  run.base.keep_trying = true;  // one camera that is away never ends the others' process
  run.health_topic = std::string(wire::kCameraHealthTopic);
  // Checked before anything starts, so a bad file fails at once with its line.
  auto cameras = pipeline::load_cameras(run.path, run.base);
  if (!cameras) return report_error("ingest", cameras.error());
  std::vector<std::string> topics = {run.health_topic};
  for (const auto& c : *cameras) topics.push_back(c.topic);
  if (Status s = kafka::ensure_topics(run.base.kafka, topics, o.topics); !s)
    return report_error("ingest", s.error());
  auto server = start_metrics(o.metrics, [] { return std::string(); });
  if (!server) return report_error("ingest", server.error());
  install_reload_handler();
  run.reload_requested = [] { return take_reload_request(); };
  std::stop_source stop;
  SignalBridge bridge(stop);
  if (Status s = pipeline::run_cameras_file(run, stop.get_token()); !s)
    return report_error("ingest", s.error());
  return kExitOk;
}

int run_ingest_command(IngestOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("ingest", config.error());
  o.params.kafka = *config;
  if (!o.cameras_file.empty()) return run_cameras_command(o);
  if (Status s = kafka::ensure_topics(*config, {o.params.topic}, o.topics); !s)
    return report_error("ingest", s.error());
  o.params.progress = !o.no_progress && isatty(STDERR_FILENO) != 0;
  auto server = start_metrics(o.metrics, [] { return std::string(); });
  if (!server) return report_error("ingest", server.error());
  std::stop_source stop;
  SignalBridge bridge(stop);
  auto stats = pipeline::run_ingest(o.params, stop.get_token());
  if (!stats) return report_error("ingest", stats.error());
  log_info(
      "ingest: {} frames published ({:.1f} MB) in {:.1f} s, {:.1f} fps{}", stats->frames_published,
      static_cast<double>(stats->bytes_published) / 1e6, stats->elapsed_s,
      stats->elapsed_s > 0 ? static_cast<double>(stats->frames_published) / stats->elapsed_s : 0.0,
      stop.stop_requested() ? " (interrupted; everything read was flushed)" : "");
  return kExitOk;
}

}  // namespace

void add_ingest_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<IngestOptions>();
  CLI::App* cmd =
      app.add_subcommand("ingest", "Publish frames of a video source to raw_video_frames as JPEG");
  add_kafka_options(cmd, o->kafka);
  add_metrics_option(cmd, o->metrics);
  add_topic_options(cmd, o->topics);
  auto& p = o->params;
  auto* source = cmd->add_option("--source,-s", p.source,
                                 "Video file, image folder, /dev/videoN, or rtsp:// / http:// URL");
  auto* camera =
      cmd->add_option("--camera,-c", p.camera, "Camera id: the record key")->capture_default_str();
  cmd->add_option("--cameras", o->cameras_file,
                  "YAML file of cameras, all run by this process, each on its own thread "
                  "(docs/cameras.md). Its cameras take the options below as defaults. SIGHUP, "
                  "or saving the file, adds, removes and restarts changed cameras; the others "
                  "keep streaming. Health goes to the camera_health topic")
      ->excludes(source)
      ->excludes(camera);
  cmd->add_option("--fps", p.fps,
                  "Sample the source to this many frames per second (0: every frame)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-frames,-n", p.max_frames,
                  "Stop after publishing this many frames (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--jpeg-quality,-q", p.jpeg_quality, "JPEG quality 1..100")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_flag("--realtime", p.realtime,
                "Pace a file source to its own frame rate, like a live camera");
  cmd->add_option("--reconnect", p.reconnect_attempts,
                  "Stream URLs: retries (0.5 s backoff, doubling to 8 s) when the stream cannot "
                  "be opened or drops mid-way; then the run fails")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--rate", p.rate,
                  "Publish at most this many frames per second, whatever the source's own rate "
                  "(0: as fast as possible)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-lag", p.max_lag,
                  "Wait while the detector group lags this many frames behind on this camera's "
                  "partition (0: never wait: Kafka holds the backlog, as long as its retention "
                  "allows)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--stale-after-ms", p.stale_after_ms,
                  "Detectors that fall behind may skip a frame this much older than its capture "
                  "(kept in the topic, counted as skipped). -1: 2000 for cameras and stream "
                  "URLs, never for files; 0: never")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{-1}, int64_t{86'400'000}));
  cmd->add_option("--lag-group", p.lag_group, "Consumer group whose lag is watched")
      ->capture_default_str();
  cmd->add_option("--topic", p.topic, "Topic to publish to")->capture_default_str();
  cmd->add_flag("--no-progress", o->no_progress, "Never draw the progress bar");
  cmd->callback([o, &action] {
    if (o->cameras_file.empty() && o->params.source.empty())
      throw CLI::RequiredError("--source or --cameras");
    action = [o] { return run_ingest_command(*o); };
  });
}

}  // namespace kv::app
