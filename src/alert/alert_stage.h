// kvision alert's stage: each detection record through the rules, on the subscriber loop.
// The alerts a record fires go to the alerts topic (and the webhook); its offset is stored
// only once the brokers acknowledged them.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "alert/engine.h"
#include "alert/webhook.h"
#include "kafka/producer.h"
#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"
#include "vlog/clip_scheduler.h"

namespace kv::alert {

// Records come in frame order per camera (the detectors release them in input order, and a
// camera's frames share a partition), which the engine's rules about consecutive frames and
// tracks rely on. Thread-safety: one thread (the loop's).
class AlertStage final : public pipeline::Subscriber {
 public:
  // Where the clips of rules with clip_before/clip_after go: read from `frames_topic` by
  // `scheduler` once their range has passed, written into `dir` under the name the alert
  // record gives.
  struct Clips {
    vlog::ClipScheduler* scheduler = nullptr;
    kafka::KafkaConfig kafka;
    std::string frames_topic;
    std::filesystem::path dir;
  };
  // `webhook` may be null; so may `clips` (no clips are written).
  AlertStage(Engine& engine, kafka::Producer& producer, std::string alerts_topic, Webhook* webhook,
             const Clips* clips = nullptr);

  Status take(const kafka::Message& record) override;
  // Waits until the brokers acknowledged the alerts fired since the last flush.
  Status flush() override;

 private:
  Engine& engine_;
  kafka::Producer& producer_;
  const std::string alerts_topic_;
  Webhook* webhook_;
  const Clips* clips_;
  int64_t unflushed_ = 0;  // alerts produced since the last flush
  // Alerts the brokers refused, counted by delivery callbacks (which may outlive the stage).
  std::shared_ptr<std::atomic<int64_t>> failed_ = std::make_shared<std::atomic<int64_t>>(0);
  metrics::FrameCounter frames_{"alert"};
};

}  // namespace kv::alert
