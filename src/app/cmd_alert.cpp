// kvision alert: detection records through declarative rules; alerts to the `alerts` topic
// (and optionally a webhook). Input offsets are committed only after the alerts a record
// fired are acknowledged by the brokers.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "alert/engine.h"
#include "alert/reorder.h"
#include "alert/webhook.h"
#include "app/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/record.h"
#include "metrics/stage_metrics.h"
#include "pipeline/offset_tracker.h"
#include "pipeline/sink.h"
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
  bool check = false;
  std::string metrics;
  kafka::TopicSettings topics;
};

// Before a rebalance takes partitions away, the records read from them are processed (frames
// waiting for an earlier one go on without it), so that their offsets are committed with the
// revocation and the new owner starts after them.
class RevokeHook final : public kafka::RebalanceListener {
 public:
  std::function<void(const std::vector<kafka::TopicPartition>&)> on_revoke;
  void on_assigned(const std::vector<kafka::TopicPartition>& /*partitions*/) override {}
  void on_revoking(const std::vector<kafka::TopicPartition>& partitions) override {
    if (on_revoke) on_revoke(partitions);
  }
};

void count_alert(const alert::Alert& a) {
  if (!metrics::enabled()) return;
  metrics::global()
      .counter("kvision_alerts_total", "Alerts fired, by rule and camera",
               {{"rule", a.rule->name}, {"camera", a.frame.camera}})
      .inc();
}

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
    auto w = alert::Webhook::create(o.webhook, o.webhook_retries, o.webhook_backoff_ms);
    if (!w) return report_error("alert", w.error());
    webhook = std::move(*w);
  }
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("alert", config.error());
  if (Status s = kafka::ensure_topics(*config, {o.alerts_topic}, o.topics); !s)
    return report_error("alert", s.error());
  // Declared before the producer: its delivery callbacks count into it until it is destroyed.
  std::atomic<int64_t> failed{0};
  auto producer = kafka::Producer::create(*config);
  if (!producer) return report_error("alert", producer.error());
  if (Status s = (*producer)->connect(o.alerts_topic, 30000); !s)
    return report_error("alert", s.error());
  RevokeHook revoke_hook;  // outlives the consumer
  auto consumer = kafka::Consumer::create(*config, o.group, {}, &revoke_hook);
  if (!consumer) return report_error("alert", consumer.error());
  if (Status s = (*consumer)->subscribe({o.topic}); !s) return report_error("alert", s.error());
  auto server = start_metrics(o.metrics, [] { return std::string(); });
  if (!server) return report_error("alert", server.error());
  metrics::build_info("alert", "");
  metrics::FrameCounter frame_metrics("alert");
  log_info("alert: group '{}' on {} -> {}{}", o.group, o.topic, o.alerts_topic,
           webhook ? " and " + o.webhook : "");

  alert::Engine engine(std::move(*rules));
  alert::Reorderer reorder;
  pipeline::OffsetTracker offsets;
  std::stop_source stop;
  SignalBridge bridge(stop);
  int64_t bad = 0;
  // Offsets are handed to the consumer only for records processed with their alerts acked.
  auto done = [&](const std::string& topic, int32_t partition, int64_t offset) {
    if (auto next = offsets.complete({topic, partition}, offset))
      (void)(*consumer)->store_offset(topic, partition, *next);
  };
  auto handle = [&](std::vector<alert::Held> ready) -> Status {
    size_t fired = 0;
    for (const alert::Held& h : ready) {
      for (const alert::Alert& a : engine.process(h.record)) {
        ++fired;
        const std::string body = alert::alert_json(a);
        log_info("ALERT {} camera {} at {} (frame {}, {} object(s))", a.rule->name, a.frame.camera,
                 format_wall_time(a.frame.capture_us), a.frame.seq, a.detections.size());
        count_alert(a);
        kafka::OutRecord out{o.alerts_topic,
                             a.frame.camera,
                             {reinterpret_cast<const uint8_t*>(body.data()), body.size()}};
        Status s = (*producer)->produce(out, [&failed](const kafka::Delivery& d) {
          if (!d.status) {
            ++failed;
            log_error("alert: an alert was not delivered: {}", d.status.error().message);
          }
        });
        if (!s) return s;
        if (webhook) webhook->post(body);
      }
    }
    if (fired > 0) {
      if (Status s = (*producer)->flush(30000); !s) return s;
      if (failed.load() > 0) {
        return make_error(ErrorCode::kKafka,
                          "alerts could not be delivered; stopping so that "
                          "their records are read again after a restart");
      }
    }
    for (const alert::Held& h : ready) done(h.topic, h.partition, h.offset);
    return ok_status();
  };
  Status status;
  revoke_hook.on_revoke = [&](const std::vector<kafka::TopicPartition>& partitions) {
    if (status.ok()) status = handle(reorder.drain());
    offsets.forget(partitions);
  };
  while (!stop.stop_requested() && status.ok()) {
    // Frames that waited long enough for an earlier one go on without it.
    if (reorder.waiting() > 0) {
      if (status = handle(reorder.expire(mono_now_us())); !status) break;
    }
    auto msg = (*consumer)->poll(100);
    if (!status) break;  // the revocation hook could not deliver what it processed
    if (!msg) {
      status = msg.error();
      break;
    }
    if (!*msg) continue;
    const rd_kafka_message_t* m = msg->get();
    const std::string topic = kafka::message_topic(m);
    if (!offsets.begin({topic, m->partition}, m->offset)) continue;
    auto rec = pipeline::detection_record(m);
    if (!rec) {
      ++bad;
      metrics::count_error("alert", "record");
      log_warn("alert: skipping {}[{}]@{}: {}", topic, m->partition, m->offset,
               rec.error().message);
      done(topic, m->partition, m->offset);
      continue;
    }
    frame_metrics.count(rec->frame.camera, m->len);
    status = handle(reorder.push({std::move(*rec), topic, m->partition, m->offset}, mono_now_us()));
  }
  if (status.ok()) status = handle(reorder.drain());
  (*consumer)->close();
  const alert::EngineStats& s = engine.stats();
  log_info("alert: {} frames, {} alerts fired, {} held back by cooldowns, {} stale, {} bad",
           s.frames, s.fired, s.suppressed, s.stale, bad);
  if (webhook) {
    webhook.reset();  // drains what is queued
  }
  if (!status) return report_error("alert", status.error());
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
  cmd->add_option("--rules", o->rules, "Rule file (see docs/alerts.md)")->required();
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
  cmd->callback([o, &action] { action = [o] { return run_alert(*o); }; });
}

}  // namespace kv::app
