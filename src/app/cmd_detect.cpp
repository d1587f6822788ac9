// kvision detect: a detector worker in a consumer group.
#include <memory>

#include "app/cli.h"
#include "common/log.h"
#include "pipeline/detect_stage.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct DetectOptions {
  KafkaOptions kafka;
  MetricsOptions metrics;
  pipeline::DetectStageParams params;
  kafka::TopicSettings topics;
  WorkerOptions workers;
};

int run_detect_command(DetectOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("detect", config.error());
  o.params.kafka = *config;
  o.params.topics = o.topics;
  // Its input too, so that detectors may start before the first camera.
  if (Status s = kafka::ensure_topics(
          *config,
          {o.params.input_topic, o.params.processed_topic, o.params.detections_topic,
           o.params.input_topic + std::string(wire::kDeadLetterSuffix),
           o.params.input_topic + std::string(wire::kSkippedSuffix)},
          o.topics);
      !s)
    return report_error("detect", s.error());
  o.params.threads = apply_worker_options(o.workers);
  auto stage = pipeline::DetectStage::create(o.params);
  if (!stage) return report_error("detect", stage.error());
  pipeline::DetectStage* raw = stage->get();
  auto server = start_metrics(o.metrics, [raw]() -> std::string {
    return raw->stats().assigned_partitions.load() > 0 ? "" : "no input partitions assigned yet";
  });
  if (!server) return report_error("detect", server.error());
  std::stop_source stop;
  SignalBridge bridge(stop);
  const Status s = (*stage)->run(stop.get_token());
  const pipeline::DetectStats& st = (*stage)->stats();
  log_info(
      "detect: consumed {}, processed {}, skipped as stale {}, bad records {} (dead-lettered "
      "{}); sequence gaps {} frame(s), duplicates {}",
      st.consumed.load(), st.processed.load(), st.skipped.load(), st.bad_records.load(),
      st.dead_lettered.load(), st.sequence_missing.load(), st.sequence_duplicates.load());
  if (!s.ok()) return report_error("detect", s.error());
  return kExitOk;
}

}  // namespace

void add_detect_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<DetectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "detect",
      "Consume raw_video_frames, run the detector, publish processed_images and detections");
  add_kafka_options(cmd, o->kafka);
  add_metrics_option(cmd, o->metrics);
  add_topic_options(cmd, o->topics);
  auto& p = o->params;
  add_model_options(cmd, p.detector);
  cmd->add_option("--group,-g", p.group,
                  "Consumer group; detectors in one group share the partitions")
      ->capture_default_str();
  add_worker_options(cmd, o->workers);
  cmd->add_option("--input-topic", p.input_topic, "Topic to consume")->capture_default_str();
  cmd->add_option("--delay-ms", p.delay_ms,
                  "Add this many ms to every frame, to test lag and slow-model handling")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  cmd->add_option("--delay-jitter-ms", p.delay_jitter_ms,
                  "Add a random 0..this many ms more to every frame, so workers finish out of "
                  "order (testing)")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  cmd->add_option("--max-staleness-ms", p.max_staleness_ms,
                  "Skip frames older than this when a worker reaches them, to keep live latency "
                  "bounded when the group cannot keep up; skipped frames stay in the input topic "
                  "and are recorded on <input>.skipped. -1: as each frame's source asks (ingest: "
                  "2000 for cameras and streams, never for files); 0: never skip")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{-1}, int64_t{86'400'000}));
  cmd->add_flag("!--no-track", p.track,
                "Do not track objects. By default each camera's objects get track IDs that "
                "last across frames, and each camera's tracker state goes to the "
                "tracker_state topic, so that the member taking its partition over keeps the "
                "IDs (docs/tracking.md)");
  cmd->add_option("--tracker-state-topic", p.state_topic,
                  "Topic for the cameras' tracker state (created with 1 h retention if absent)")
      ->capture_default_str();
  cmd->add_flag("--exactly-once", p.exactly_once,
                "Commit results and input offsets in one Kafka transaction: no frame is "
                "processed twice for read_committed consumers (needs a broker with "
                "transactions: kvision's or Kafka)");
  cmd->add_option("--transactional-id", p.transactional_id,
                  "Exactly-once: this worker's transactional id. Give each worker a stable one "
                  "(e.g. detect-1) so a restarted worker aborts its predecessor's open "
                  "transaction at once (default: <group>-<host>-<pid>)");
  cmd->add_option("--transaction-interval-ms", p.transaction_interval_ms,
                  "Exactly-once: commit a transaction this often")
      ->capture_default_str()
      ->check(CLI::Range(10, 60000));
  cmd->add_option("--transaction-timeout-ms", p.transaction_timeout_ms,
                  "Exactly-once: the broker aborts a transaction open longer than this (a "
                  "crashed worker's results stay invisible until then)")
      ->capture_default_str()
      ->check(CLI::Range(1000, 900000));
  cmd->callback([o, &action] { action = [o] { return run_detect_command(*o); }; });
}

}  // namespace kv::app
