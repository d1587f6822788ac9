// kvision alert's stage: each detection record through the rules, on the subscriber loop.
// The alerts a record fires go to the alerts topic (and the webhook); its offset is stored
// only once the brokers acknowledged them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "alert/engine.h"
#include "alert/webhook.h"
#include "kafka/producer.h"
#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"

namespace kv::alert {

// Records come in frame order per camera (the detectors release them in input order, and a
// camera's frames share a partition), which the engine's rules about consecutive frames and
// tracks rely on. Thread-safety: one thread (the loop's).
class AlertStage final : public pipeline::Subscriber {
 public:
  // `webhook` may be null.
  AlertStage(Engine& engine, kafka::Producer& producer, std::string alerts_topic, Webhook* webhook);

  Status take(const kafka::Message& record) override;
  // Waits until the brokers acknowledged the alerts fired since the last flush.
  Status flush() override;

 private:
  Engine& engine_;
  kafka::Producer& producer_;
  const std::string alerts_topic_;
  Webhook* webhook_;
  int64_t unflushed_ = 0;  // alerts produced since the last flush
  // Alerts the brokers refused, counted by delivery callbacks (which may outlive the stage).
  std::shared_ptr<std::atomic<int64_t>> failed_ = std::make_shared<std::atomic<int64_t>>(0);
  metrics::FrameCounter frames_{"alert"};
};

}  // namespace kv::alert
