// kvision replay: stored frames of a time range detected again, with another model, into a
// shadow topic, by a consumer group of its own; the live group's offsets are never touched.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>

#include "common/result.h"
#include "pipeline/detect_stage.h"
#include "vlog/time_range.h"

namespace kv::vlog {

// Where each input partition's replay starts and ends.
struct ReplayPlan {
  std::map<int32_t, int64_t> starts;  // the group's committed offset, or the range's start
  std::map<int32_t, int64_t> ends;    // the log end now; only partitions with work
  int64_t records = 0;                // input records between the starts and the ends
  bool resumed = false;               // the group had committed offsets: it goes on from them
};

// Looks up the replay group's committed offsets; partitions without one start at the range's
// start (Kafka's timestamp lookup), committed for the group so that a stopped replay resumes.
Result<ReplayPlan> plan_replay(const kafka::KafkaConfig& config, const std::string& group,
                               const std::string& input_topic, const TimeRange& range);

struct ReplayParams {
  pipeline::DetectStageParams stage;  // model, threads, group and output topic set
  TimeRange range;
  std::string camera;  // empty: every camera
  std::function<void(const pipeline::DetectStats&, const ReplayPlan&)> on_progress;
};

struct ReplayResult {
  ReplayPlan plan;
  int64_t processed = 0;
  int64_t passed = 0;  // records outside the camera or the time range
  int64_t dead_lettered = 0;
  bool finished = false;  // false: stopped early; run it again to resume
};

// Plans, then runs a DetectStage over the range until every partition is done or `stop`.
Result<ReplayResult> run_replay(ReplayParams params, std::stop_token stop);

}  // namespace kv::vlog
