// kvision alert: wiring for alert::AlertStage (rules, producer, consumer, webhook).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "alert/alert_stage.h"
#include "alert/engine.h"
#include "alert/webhook.h"
#include "app/cli.h"
#include "common/log.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/topics.h"
#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"
#include "vlog/clip_scheduler.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct AlertOptions {
  KafkaOptions kafka;
  std::string rules;
  std::string topic = "detections";
  std::string alerts_topic = std::string(wire::kAlertsTopic);
  std::string group = "kvision-alert";
  std::string webhook;
  int webhook_retries = 5;
  int webhook_backoff_ms = 500;
  std::string webhook_secret_file;
  bool check = false;
  MetricsOptions metrics;
  kafka::TopicSettings topics;
  std::string clips_dir = "alert-clips";
  std::string frames_topic = std::string(wire::kRawFramesTopic);
};

std::string describe(const alert::Rule& r) {
  std::string zone = r.zone.empty() ? "whole frame" : fmt::format("{}-point zone", r.zone.size());
  return fmt::format("[{}] {} >= {:.2f}, {}, when {}, cooldown {} s", r.name,
                     fmt::join(r.labels, ","), r.min_score, zone, r.when,
                     static_cast<double>(r.cooldown_us) / 1e6);
}

int run_alert(const AlertOptions& o) {
  auto rules = alert::load_rules(o.rules);
  if (!rules) return report_error("alert", rules.error());
  for (const alert::Rule& r : *rules) log_info("alert: rule {}", describe(r));
  if (o.check) {
    std::printf("%s: %zu rule(s), all valid\n", o.rules.c_str(), rules->size());
    return kExitOk;
  }
  std::unique_ptr<alert::Webhook> webhook;
  if (!o.webhook.empty()) {
    std::string secret;
    if (!o.webhook_secret_file.empty()) {
      std::ifstream in(o.webhook_secret_file);
      if (!in || !std::getline(in, secret) || secret.empty()) {
        return report_error("alert", make_error(ErrorCode::kInvalidArgument,
                                                fmt::format("--webhook-secret-file '{}': cannot "
                                                            "read a secret from its first line",
                                                            o.webhook_secret_file)));
      }
    }
    auto w = alert::Webhook::create(o.webhook, o.webhook_retries, o.webhook_backoff_ms,
                                    std::move(secret));
    if (!w) return report_error("alert", w.error());
    webhook = std::move(*w);
  }
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("alert", config.error());
  if (Status s = kafka::ensure_topics(*config, {o.alerts_topic}, o.topics); !s)
    return report_error("alert", s.error());
  auto producer = kafka::Producer::create(*config);
  if (!producer) return report_error("alert", producer.error());
  if (Status s = (*producer)->connect(o.alerts_topic, 30000); !s)
    return report_error("alert", s.error());
  auto consumer = kafka::Consumer::create(*config, o.group);
  if (!consumer) return report_error("alert", consumer.error());
  if (Status s = (*consumer)->subscribe({o.topic}); !s) return report_error("alert", s.error());
  auto server = start_metrics(o.metrics, [] { return std::string(); });
  if (!server) return report_error("alert", server.error());
  metrics::build_info("alert", "");
  log_info("alert: group '{}' on {} -> {}{}", o.group, o.topic, o.alerts_topic,
           webhook ? " and " + o.webhook : "");
  std::stop_source stop;
  SignalBridge bridge(stop);

  // Clips around alerts, for the rules that ask for them.
  const bool clips_wanted = std::any_of(rules->begin(), rules->end(),
                                        [](const alert::Rule& r) { return r.wants_clip(); });
  std::unique_ptr<vlog::ClipScheduler> scheduler;
  alert::AlertStage::Clips clips{nullptr, *config, o.frames_topic, o.clips_dir};
  if (clips_wanted) {
    std::error_code ec;
    std::filesystem::create_directories(o.clips_dir, ec);
    if (ec) {
      return report_error(
          "alert", make_error(ErrorCode::kIo, fmt::format("cannot create --clips-dir '{}': {}",
                                                          o.clips_dir, ec.message())));
    }
    scheduler = std::make_unique<vlog::ClipScheduler>();
    clips.scheduler = scheduler.get();
    log_info("alert: clips around alerts go to {}", o.clips_dir);
  }

  alert::Engine engine(std::move(*rules));
  alert::AlertStage stage(engine, **producer, o.alerts_topic, webhook.get(), &clips);
  auto run = pipeline::run_subscriber(**consumer, stage, {.stage = "alert"}, stop.get_token());
  const alert::EngineStats& s = engine.stats();
  log_info("alert: {} frames, {} alerts fired, {} held back by cooldowns, {} stale, {} bad",
           s.frames, s.fired, s.suppressed, s.stale, run ? run->bad_records : 0);
  webhook.reset();    // drains what is queued
  scheduler.reset();  // writes the clips still waiting
  if (!run) return report_error("alert", run.error());
  return kExitOk;
}

}  // namespace

void add_alert_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<AlertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "alert",
      "Fire alerts from declarative rules (zones, consecutive frames or seconds, counts, line "
      "crossings, cooldowns) to the alerts topic and optionally a webhook");
  add_kafka_options(cmd, o->kafka);
  add_metrics_option(cmd, o->metrics);
  add_topic_options(cmd, o->topics);
  cmd->add_option("--rules", o->rules, "Rule file (see docs/subscribers.md)")->required();
  cmd->add_flag("--check", o->check, "Only check the rule file and exit (0: valid, 2: not)");
  cmd->add_option("--topic", o->topic, "detections, or processed_images")->capture_default_str();
  cmd->add_option("--alerts-topic", o->alerts_topic, "Where alerts go")->capture_default_str();
  cmd->add_option("--group,-g", o->group, "Consumer group")->capture_default_str();
  cmd->add_option("--webhook", o->webhook, "Also POST each alert's JSON to http://HOST:PORT/PATH");
  cmd->add_option("--webhook-retries", o->webhook_retries, "Retries after a failed POST")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--webhook-backoff-ms", o->webhook_backoff_ms,
                  "First retry delay; doubles each retry, up to 30 s")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  cmd->add_option("--webhook-secret-file", o->webhook_secret_file,
                  "Sign each POST with the secret on this file's first line: X-Kvision-Signature "
                  "is sha256=HMAC-SHA256(secret, X-Kvision-Timestamp + \".\" + body), in hex");
  cmd->add_option("--clips-dir", o->clips_dir,
                  "Where the clips of rules with clip_before/clip_after go (H.264 MP4, named in "
                  "the alert's \"clip\"; kvision web --clips-dir serves them)")
      ->capture_default_str();
  cmd->add_option("--frames-topic", o->frames_topic, "Where the clips' frames are read from")
      ->capture_default_str();
  cmd->callback([o, &action] { action = [o] { return run_alert(*o); }; });
}

}  // namespace kv::app
