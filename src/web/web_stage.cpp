#include "web/web_stage.h"

#include <chrono>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"
#include "pipeline/result_record.h"
#include "web/web_app.h"
#include "wire/topics.h"

namespace kv::web {

Status WebStage::take(const kafka::Message& m) {
  const int64_t now = wall_now_us();
  if (m.topic() == alerts_topic_) {
    auto alert = checked_alert(m.value_text());
    if (!alert) return make_error(ErrorCode::kDecode, "not an alert record; not shown");
    state_.add_alert(*alert, now);
    return ok_status();
  }
  auto rec = pipeline::detection_record(m);
  if (!rec) return rec.error();
  frames_.count(rec->frame.camera, m.size());
  state_.add_frame(*rec, std::string(m.value_text()), now);
  return ok_status();
}

void watch_health(kafka::StatusReader& reader, LiveState& state, double interval_s,
                  std::stop_token stop) {
  std::optional<kafka::ClusterSnapshot> before;
  while (!stop.stop_requested()) {
    auto snap = reader.snapshot({}, 5000, std::string(wire::kCameraHealthTopic));
    if (snap) {
      // A verdict needs two snapshots: the first only sets the baseline.
      if (before)
        state.set_status(status_json(kafka::judge_groups(*before, *snap), snap->camera_health));
      before = std::move(*snap);
    } else {
      log_warn("web: cannot read the groups' status: {}", snap.error().message);
    }
    for (int i = 0; i < interval_s * 10 && !stop.stop_requested(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace kv::web
