// kvision web: wiring for the live view (web::WebApp serving, web::WebStage reading the newest
// frames and alerts from every partition's tail, web::watch_health judging the groups).
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "app/cli.h"
#include "common/http.h"
#include "common/log.h"
#include "kafka/cluster_status.h"
#include "kafka/partition_reader.h"
#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"
#include "store/detection_store.h"
#include "web/live_state.h"
#include "web/web_app.h"
#include "web/web_stage.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct WebOptions {
  KafkaOptions kafka;
  std::string listen = "127.0.0.1:8080";
  std::string topic = std::string(wire::kProcessedTopic);
  std::string alerts_topic = std::string(wire::kAlertsTopic);
  std::string db;
  std::string clips_dir;
  int tail = 5;
  double status_interval_s = 2;
  std::string metrics;
};

int run_web(const WebOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("web", config.error());
  std::unique_ptr<store::DetectionStore> db;
  if (!o.db.empty()) {
    auto opened = store::DetectionStore::open(o.db);
    if (!opened) return report_error("web", opened.error());
    db = std::move(*opened);
  }
  auto reader = kafka::PartitionReader::create(*config, {.name = "web"});
  if (!reader) return report_error("web", reader.error());
  (*reader)->follow(o.topic, kafka::PartitionStart::tail(o.tail));
  (*reader)->follow(o.alerts_topic, kafka::PartitionStart::tail(50));
  auto status_reader = kafka::StatusReader::create(*config);
  if (!status_reader) return report_error("web", status_reader.error());

  web::LiveState state;
  web::WebApp app(state, db.get(), o.clips_dir);
  auto server = http::Server::start(
      o.listen, [&app](const http::Request& r, http::Responder& out) { app.handle(r, out); });
  if (!server) return report_error("web", server.error());
  const kafka::PartitionReader& frames = **reader;
  auto metrics_server = start_metrics(o.metrics, [&frames]() -> std::string {
    return frames.followed_partitions() > 0 ? "" : "no frame partitions assigned yet";
  });
  if (!metrics_server) return report_error("web", metrics_server.error());
  metrics::build_info("web", "");
  std::printf("kvision web: open http://%s:%d/ (live view of %s)\n", (*server)->host().c_str(),
              (*server)->port(), o.topic.c_str());
  std::fflush(stdout);

  std::stop_source stop;
  SignalBridge bridge(stop);
  std::jthread health([&](std::stop_token) {
    web::watch_health(**status_reader, state, o.status_interval_s, stop.get_token());
  });
  web::WebStage stage(state, o.alerts_topic);
  auto run =
      pipeline::run_subscriber(**reader, stage, {.stage = "web", .poll_ms = 200}, stop.get_token());
  app.stop();
  stop.request_stop();
  (*server)->stop();
  health.join();
  log_info("web: {} camera(s) shown, {} bad records skipped", state.camera_count(),
           run ? run->bad_records : 0);
  if (!run) return report_error("web", run.error());
  return kExitOk;
}

}  // namespace

void add_web_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<WebOptions>();
  CLI::App* cmd = app.add_subcommand(
      "web",
      "Live view in the browser: every camera's newest frame with its boxes, counts, fps, "
      "latency, lag and alerts; JSON API and stored-detection search (--db)");
  add_kafka_options(cmd, o->kafka);
  add_metrics_option(cmd, o->metrics);
  cmd->add_option("--listen,-l", o->listen,
                  "HOST:PORT to serve on (loopback unless a host is given; 0.0.0.0 for all)")
      ->capture_default_str();
  cmd->add_option("--topic", o->topic, "Frames with their detections")->capture_default_str();
  cmd->add_option("--alerts-topic", o->alerts_topic, "Alerts to list")->capture_default_str();
  cmd->add_option("--db", o->db, "Database written by kvision store, for /api/query");
  cmd->add_option("--clips-dir", o->clips_dir,
                  "Directory of alert clips (kvision alert --clips-dir), played in the alert list");
  cmd->add_option("--status-interval", o->status_interval_s, "Seconds between health checks")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 600.0));
  cmd->callback([o, &action] { action = [o] { return run_web(*o); }; });
}

}  // namespace kv::app
