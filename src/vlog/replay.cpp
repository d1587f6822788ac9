#include "vlog/replay.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"
#include "kafka/admin.h"
#include "kafka/partition_reader.h"

namespace kv::vlog {

Result<ReplayPlan> plan_replay(const kafka::KafkaConfig& config, const std::string& group,
                               const std::string& input_topic, const TimeRange& range) {
  auto reader = kafka::PartitionReader::create(config, {.committed = true, .name = "replay"});
  if (!reader) return reader.error();
  auto parts = (*reader)->partitions_of(input_topic, 10000);
  if (!parts) return parts.error();
  if (parts->empty())
    return make_error(ErrorCode::kNotFound, fmt::format("topic {} does not exist", input_topic));
  // The last stable offset now (read_committed): what the replay reads up to.
  auto ends = (*reader)->starts_at_time(*parts, kafka::PartitionStart::kEnd, 10000);
  if (!ends) return ends.error();
  auto from = (*reader)->starts_at_time(*parts, range.from_ms, 10000);
  if (!from) return from.error();
  auto admin = kafka::Admin::create(config);
  if (!admin) return admin.error();
  kafka::Admin::Partitions wanted;
  for (const kafka::TopicPartition& tp : *parts) wanted.emplace_back(tp.topic, tp.partition);
  auto committed = (*admin)->committed_offsets(group, wanted, 10000);
  if (!committed) return committed.error();

  ReplayPlan plan;
  plan.resumed = !committed->empty();
  std::map<std::pair<std::string, int32_t>, int64_t> to_commit;
  for (const kafka::PartitionStart& end : *ends) {
    const int32_t p = end.partition.partition;
    int64_t start = end.offset;  // nothing at or after the range's start: nothing to do
    if (auto c = committed->find({input_topic, p}); c != committed->end()) {
      start = c->second;
    } else {
      for (const kafka::PartitionStart& f : *from) {
        if (f.partition.partition == p) start = f.offset;
      }
      to_commit[{input_topic, p}] = start;
    }
    plan.starts[p] = start;
    if (start < end.offset) {
      plan.ends[p] = end.offset;
      plan.records += end.offset - start;
    }
  }
  if (Status s = (*admin)->commit_offsets(group, to_commit); !s) return s.error();
  return plan;
}

Result<ReplayResult> run_replay(ReplayParams params, std::stop_token stop) {
  pipeline::DetectStageParams& stage = params.stage;
  auto plan = plan_replay(stage.kafka, stage.group, stage.input_topic, params.range);
  if (!plan) return plan.error();
  ReplayResult result;
  result.plan = *plan;
  log_info("replay: group '{}', {} record(s) of {} on {} partition(s) to read{}", stage.group,
           plan->records, stage.input_topic, plan->ends.size(),
           plan->resumed ? " (resuming from the group's committed offsets)" : "");
  if (plan->ends.empty()) {
    result.finished = true;
    return result;
  }
  stage.replay.enabled = true;
  stage.replay.from_ms = params.range.from_ms;
  stage.replay.to_ms = params.range.to_ms;
  stage.replay.camera = params.camera;
  stage.replay.ends = plan->ends;
  stage.max_staleness_ms = 0;  // stored frames are old by nature: never skipped as stale
  auto detect = pipeline::DetectStage::create(stage);
  if (!detect) return detect.error();
  std::stop_source own;
  std::stop_callback forward(stop, [&own] { own.request_stop(); });
  std::jthread progress([&](std::stop_token st) {
    while (!st.stop_requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (params.on_progress) params.on_progress((*detect)->stats(), *plan);
    }
  });
  Status s = (*detect)->run(own.get_token());
  progress.request_stop();
  progress.join();
  if (params.on_progress) params.on_progress((*detect)->stats(), *plan);
  if (!s) return s.error();
  const pipeline::DetectStats& st = (*detect)->stats();
  result.processed = st.processed.load();
  result.passed = st.passed.load();
  result.dead_lettered = st.dead_lettered.load();
  result.finished = !stop.stop_requested();
  return result;
}

}  // namespace kv::vlog
