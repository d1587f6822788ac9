// kvision run: broker, ingest, N detectors and a sink in one process, on the same code paths
// as the separate commands; prints a summary at the end.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "app/cli.h"
#include "app/local_pipeline.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/percentile.h"
#include "pipeline/ingest.h"

namespace kv::app {
namespace {

constexpr int kRunPartitions = 4;

struct RunOptions {
  KafkaOptions kafka;  // only -X is used: the broker is embedded
  pipeline::IngestParams ingest;
  detect::DetectorParams detector;
  int detectors = 1;
  int threads = 0;
  int port = 0;
  std::string engine = "durable";
  std::string data_dir;  // empty: a temporary directory
  std::string output;
  int drain_timeout_s = 60;
  bool exactly_once = false;
  bool track = true;
  MetricsOptions metrics;
};

// Collected from the sink thread.
struct RunTally {
  std::mutex mu;
  std::vector<double> latency_ms;
  int64_t frames = 0;
  int64_t frames_with_person = 0;
  int64_t person_boxes = 0;
  int64_t max_persons = 0;
  double infer_ms_sum = 0;
  int64_t first_receive_us = 0;
  int64_t last_receive_us = 0;
};

int run_all(RunOptions& o) {
  auto config = make_kafka_config(o.kafka);
  if (!config) return report_error("run", config.error());

  std::stop_source stop;  // Ctrl-C
  SignalBridge bridge(stop);
  RunTally tally;
  LocalPipelineParams lp;
  lp.engine = o.engine;
  lp.data_dir = o.data_dir;
  lp.port = o.port;
  lp.partitions = kRunPartitions;
  lp.kafka = *config;
  lp.detector = o.detector;
  lp.detectors = o.detectors;
  lp.threads = o.threads;
  lp.exactly_once = o.exactly_once;
  lp.track = o.track;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> output(nullptr, &std::fclose);
  if (!o.output.empty()) {
    output.reset(std::fopen(o.output.c_str(), "a"));
    if (!output) {
      return report_error(
          "run", make_error(ErrorCode::kIo,
                            fmt::format("cannot open '{}': {}", o.output, std::strerror(errno))));
    }
  }
  lp.on_record = [&tally, out = output.get()](const wire::DetectionRecord& r, int64_t receive_us) {
    int64_t persons = 0;
    for (const auto& d : r.detections) persons += d.class_id == 0 ? 1 : 0;
    std::lock_guard lock(tally.mu);
    if (out != nullptr) {
      const std::string line = wire::encode_detection_record(r) + "\n";
      std::fwrite(line.data(), 1, line.size(), out);
      std::fflush(out);
    }
    tally.latency_ms.push_back(static_cast<double>(receive_us - r.frame.capture_us) / 1000.0);
    ++tally.frames;
    tally.person_boxes += persons;
    tally.frames_with_person += persons > 0 ? 1 : 0;
    tally.max_persons = std::max(tally.max_persons, persons);
    tally.infer_ms_sum += r.timings.infer_ms;
    if (tally.frames == 1) tally.first_receive_us = receive_us;
    tally.last_receive_us = receive_us;
  };
  auto pipeline = LocalPipeline::start(lp, stop.get_token());
  if (!pipeline) return report_error("run", pipeline.error());
  auto server = start_metrics(o.metrics, [] { return std::string(); });
  if (!server) return report_error("run", server.error());

  o.ingest.progress = isatty(STDERR_FILENO) != 0;
  // The mock engine keeps only 5 MiB per partition: a backlog beyond that would be lost, so
  // ingest waits for the detectors there. The durable engine holds any backlog.
  if (o.engine == "mock") o.ingest.max_lag = 30;
  const int64_t start_us = wall_now_us();
  auto ingested = (*pipeline)->ingest(o.ingest, stop.get_token());
  int rc = kExitOk;
  if (!ingested) rc = report_error("run", ingested.error());
  const int64_t expected = ingested ? ingested->frames_published : 0;

  // Wait for the results of everything published, unless the pipeline stops making progress.
  // A detector's or the consumer's failure ends the wait at once, with its cause.
  if (ingested || !(*pipeline)->failure()) {
    if (Status s = (*pipeline)->wait_for(expected, o.drain_timeout_s, stop.get_token());
        !s && !stop.stop_requested()) {
      const int failed = report_error("run", s.error());
      if (rc == kExitOk) rc = failed;
    }
  }
  const int64_t bad = (*pipeline)->bad_records();
  const std::string model = (*pipeline)->model_name();
  const int threads = (*pipeline)->threads();
  pipeline->reset();

  std::lock_guard lock(tally.mu);
  const double elapsed_s =
      static_cast<double>(std::max<int64_t>(tally.last_receive_us - start_us, 1)) / 1e6;
  std::printf("\n== kvision run summary ==\n");
  std::printf("source            %s\n", o.ingest.source.c_str());
  std::printf("model             %s, %d detector(s) x %d thread(s)\n", model.c_str(), o.detectors,
              threads);
  std::printf("frames in         %lld\n", static_cast<long long>(expected));
  std::printf("frames out        %lld%s\n", static_cast<long long>(tally.frames),
              bad > 0 ? fmt::format(" ({} bad records dead-lettered)", bad).c_str() : "");
  // Steady state: from the first result to the last, leaving out the start-up (group joins).
  const double steady_s = static_cast<double>(tally.last_receive_us - tally.first_receive_us) / 1e6;
  const double steady_fps =
      tally.frames > 1 && steady_s > 0 ? static_cast<double>(tally.frames - 1) / steady_s : 0;
  std::printf(
      "throughput        %.1f fps steady (first to last result), %.1f fps overall in %.1f s\n",
      steady_fps, static_cast<double>(tally.frames) / elapsed_s, elapsed_s);
  std::printf("mean inference    %.1f ms/frame\n",
              tally.frames > 0 ? tally.infer_ms_sum / static_cast<double>(tally.frames) : 0.0);
  std::printf("latency p50/p99   %.1f / %.1f ms (capture -> result consumed)\n",
              percentile(tally.latency_ms, 0.5), percentile(tally.latency_ms, 0.99));
  std::printf("persons seen      %lld boxes in %lld frames (max %lld in one frame)\n",
              static_cast<long long>(tally.person_boxes),
              static_cast<long long>(tally.frames_with_person),
              static_cast<long long>(tally.max_persons));
  if (rc == kExitOk && tally.frames < expected) rc = kExitFailure;
  return rc;
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the whole pipeline in one process on an embedded broker and print a summary");
  cmd->add_option("--source,-s", o->ingest.source,
                  "Video file, image folder, /dev/videoN or stream URL")
      ->required();
  add_model_options(cmd, o->detector);
  cmd->add_option("--detectors,-d", o->detectors, "Detector group members (each takes partitions)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--threads,-t", o->threads, "Worker threads per detector (0: one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--camera,-c", o->ingest.camera, "Camera id")->capture_default_str();
  cmd->add_option("--fps", o->ingest.fps, "Sample the source to this rate (0: every frame)")
      ->capture_default_str();
  cmd->add_option("--max-frames,-n", o->ingest.max_frames, "Stop after this many frames (0: all)")
      ->capture_default_str();
  cmd->add_option("--jpeg-quality,-q", o->ingest.jpeg_quality, "JPEG quality 1..100")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_flag("--realtime", o->ingest.realtime, "Pace the file to its own frame rate");
  cmd->add_flag("!--no-track", o->track,
                "Do not track objects (by default detections carry track IDs; docs/tracking.md)");
  cmd->add_flag("--exactly-once", o->exactly_once,
                "Detectors commit results and input offsets in Kafka transactions");
  cmd->add_option("--port", o->port, "Embedded broker port on 127.0.0.1 (0: a free one)")
      ->capture_default_str();
  add_metrics_option(cmd, o->metrics);
  cmd->add_option("--broker-engine", o->engine,
                  "Embedded broker: durable (kvision's own, on disk) or mock (librdkafka's "
                  "in-memory mock cluster, 5 MiB per partition)")
      ->capture_default_str()
      ->check(CLI::IsMember({"mock", "durable"}));
  cmd->add_option("--data-dir", o->data_dir,
                  "Keep the durable broker's logs here (default: a temporary directory, "
                  "removed at the end)");
  cmd->add_option("--output,-o", o->output, "Also append every result as a JSON line to this file");
  cmd->add_option("-X", o->kafka.properties,
                  "librdkafka property key=value for every client (repeatable)");
  cmd->callback([o, &action] { action = [o] { return run_all(*o); }; });
}

}  // namespace kv::app
