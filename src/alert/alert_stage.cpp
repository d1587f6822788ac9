#include "alert/alert_stage.h"

#include "common/clock.h"
#include "common/log.h"
#include "metrics/registry.h"
#include "pipeline/result_record.h"

namespace kv::alert {
namespace {

void count_alert(const Alert& a) {
  if (!metrics::enabled()) return;
  metrics::global()
      .counter("kvision_alerts_total", "Alerts fired, by rule and camera",
               {{"rule", a.rule->name}, {"camera", a.frame.camera}})
      .inc();
}

}  // namespace

AlertStage::AlertStage(Engine& engine, kafka::Producer& producer, std::string alerts_topic,
                       Webhook* webhook, const Clips* clips)
    : engine_(engine),
      producer_(producer),
      alerts_topic_(std::move(alerts_topic)),
      webhook_(webhook),
      clips_(clips) {}

Status AlertStage::take(const kafka::Message& m) {
  auto rec = pipeline::detection_record(m);
  if (!rec) return rec.error();
  frames_.count(rec->frame.camera, m.size());
  for (const Alert& a : engine_.process(*rec)) {
    const std::string body = alert_json(a);
    log_info("ALERT {} camera {} at {} (frame {}, {} object(s))", a.rule->name, a.frame.camera,
             format_wall_time(a.frame.capture_us), a.frame.seq, a.detections.size());
    count_alert(a);
    kafka::OutRecord out{alerts_topic_,
                         a.frame.camera,
                         {reinterpret_cast<const uint8_t*>(body.data()), body.size()}};
    Status s = producer_.produce(out, [failed = failed_](const kafka::Delivery& d) {
      if (!d.status) {
        failed->fetch_add(1);
        log_error("alert: an alert was not delivered: {}", d.status.error().message);
      }
    });
    if (!s) return s;
    ++unflushed_;
    if (webhook_ != nullptr) webhook_->post(body);
    if (auto clip = alert_clip(a); clip && clips_ != nullptr && clips_->scheduler != nullptr) {
      vlog::ClipParams p;
      p.kafka = clips_->kafka;
      p.topic = clips_->frames_topic;
      p.camera = clip->camera;
      p.range = {clip->from_ms, clip->to_ms};
      p.output = clips_->dir / clip->file;
      clips_->scheduler->schedule(std::move(p));
    }
  }
  return ok_status();
}

Status AlertStage::flush() {
  if (unflushed_ == 0) return ok_status();
  if (Status s = producer_.flush(30000); !s) return s;
  unflushed_ = 0;
  if (failed_->load() > 0) {
    return make_error(ErrorCode::kKafka,
                      "alerts could not be delivered; stopping so that their records are read "
                      "again after a restart");
  }
  return ok_status();
}

}  // namespace kv::alert
