// kvision web's stages: the newest frames and alerts into the live state (a subscriber that
// reads every partition from its tail, outside any group's work), and the groups' health.
#pragma once

#include <stop_token>
#include <string>

#include "kafka/cluster_status.h"
#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"
#include "web/live_state.h"

namespace kv::web {

// Records of `alerts_topic` are alerts; all others are results. Thread-safety: one thread
// (the loop's).
class WebStage final : public pipeline::Subscriber {
 public:
  WebStage(LiveState& state, std::string alerts_topic)
      : state_(state), alerts_topic_(std::move(alerts_topic)) {}

  Status take(const kafka::Message& record) override;

 private:
  LiveState& state_;
  const std::string alerts_topic_;
  metrics::FrameCounter frames_{"web"};
};

// Every `interval_s` until stopped: a snapshot of the cluster, judged against the one before
// (like `kvision status`), into the live state.
void watch_health(kafka::StatusReader& reader, LiveState& state, double interval_s,
                  std::stop_token stop);

}  // namespace kv::web
