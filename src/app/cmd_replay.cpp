// kvision replay: stored frames of a time range detected again, with another model, into a
// shadow topic, by a group of its own (never the live group's offsets).
#include <cstdio>
#include <memory>
#include <string>

#include "app/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/units.h"
#include "vlog/replay.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct ReplayOptions {
  KafkaOptions kafka;
  kafka::TopicSettings topics;
  pipeline::DetectStageParams params;
  std::string from;
  std::string to;
  std::string camera;
  std::string to_topic;
  WorkerOptions workers;
};

int run_replay_command(ReplayOptions& o) {
  auto range = vlog::parse_time_range(o.from, o.to);
  if (!range) return report_error("replay", range.error());
  pipeline::DetectStageParams& p = o.params;
  for (std::string_view live :
       {wire::kProcessedTopic, wire::kDetectionsTopic, wire::kRawFramesTopic}) {
    if (o.to_topic == live) {
      return report_error("replay", make_error(ErrorCode::kInvalidArgument,
                                               fmt::format("--to-topic {} is a live topic; give "
                                                           "the replay a topic of its own",
                                                           o.to_topic)));
    }
  }
  if (p.group.empty()) p.group = "kvision-replay-" + o.to_topic;
  if (p.group == "kvision-detect") {
    return report_error("replay", make_error(ErrorCode::kInvalidArgument,
                                             "--group kvision-detect is the live detectors' "
                                             "group; a replay must not move its offsets"));
  }
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("replay", config.error());
  p.kafka = *config;
  p.topics = o.topics;
  p.processed_topic.clear();  // results only: the frames are already in the input topic
  p.detections_topic = o.to_topic;
  if (p.track) p.state_topic = o.to_topic + ".tracker_state";
  if (Status s = kafka::ensure_topics(
          *config, {o.to_topic, p.input_topic + std::string(wire::kDeadLetterSuffix)}, o.topics);
      !s)
    return report_error("replay", s.error());
  p.threads = apply_worker_options(o.workers);
  vlog::ReplayParams rp;
  rp.stage = p;
  rp.range = *range;
  rp.camera = o.camera;
  int64_t last_report_us = 0;
  const Stopwatch clock;
  rp.on_progress = [&](const pipeline::DetectStats& st, const vlog::ReplayPlan& plan) {
    if (mono_now_us() - last_report_us < 2'000'000) return;
    last_report_us = mono_now_us();
    const int64_t done = st.consumed.load();
    const double secs = clock.elapsed_ms() / 1000.0;
    log_info("replay: {} of {} record(s) read ({:.0f}%), {} frame(s) detected, {:.1f} fps", done,
             plan.records,
             plan.records > 0
                 ? 100.0 * static_cast<double>(done) / static_cast<double>(plan.records)
                 : 100.0,
             st.processed.load(), secs > 0 ? static_cast<double>(st.processed.load()) / secs : 0.0);
  };
  std::stop_source stop;
  SignalBridge bridge(stop);
  auto r = vlog::run_replay(rp, stop.get_token());
  if (!r) return report_error("replay", r.error());
  std::printf(
      "REPLAY group=%s to_topic=%s from=%s to=%s camera=%s records=%lld processed=%lld "
      "passed=%lld dead_lettered=%lld resumed=%s finished=%s seconds=%.1f\n",
      p.group.c_str(), o.to_topic.c_str(), format_time_ms(range->from_ms).c_str(),
      format_time_ms(range->to_ms).c_str(), o.camera.empty() ? "*" : o.camera.c_str(),
      static_cast<long long>(r->plan.records), static_cast<long long>(r->processed),
      static_cast<long long>(r->passed), static_cast<long long>(r->dead_lettered),
      r->plan.resumed ? "yes" : "no", r->finished ? "yes" : "no", clock.elapsed_ms() / 1000.0);
  if (!r->finished) {
    std::fprintf(stderr,
                 "kvision replay: stopped before the end; run the same command again to resume "
                 "(group %s keeps its place)\n",
                 p.group.c_str());
  }
  return kExitOk;
}

}  // namespace

void add_replay_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ReplayOptions>();
  o->params.group.clear();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Detect stored frames of a time range again, with another model, into a shadow topic, "
      "without touching the live detectors' offsets; compare with kvision diff");
  cmd->footer(
      "The replay is a consumer group of its own (default kvision-replay-<to-topic>), which "
      "starts at --from (Kafka's timestamp lookup) and reads up to --to or the end the topic "
      "has when it starts, then exits. Stopped with Ctrl-C, it commits what it finished; the "
      "same command resumes it. Results go to --to-topic in the detections format, with track "
      "IDs kept in <to-topic>.tracker_state. Example:\n  kvision replay --from "
      "2026-12-03T13:00:00Z --to 2026-12-03T14:00:00Z --model models/fastestdet.json "
      "--to-topic replay.fastestdet\n  kvision diff --a detections --b replay.fastestdet");
  add_kafka_options(cmd, o->kafka);
  add_topic_options(cmd, o->topics);
  add_model_options(cmd, o->params.detector);
  cmd->add_option("--from", o->from, "Start time (ISO-8601 UTC or epoch ms), inclusive")
      ->required();
  cmd->add_option("--to", o->to, "End time, inclusive")->required();
  cmd->add_option("--camera", o->camera, "Only this camera (default: every camera)");
  cmd->add_option("--to-topic", o->to_topic, "Topic for the replay's results")->required();
  cmd->add_option("--group,-g", o->params.group,
                  "The replay's consumer group (default: kvision-replay-<to-topic>); the same "
                  "group resumes where it stopped");
  cmd->add_option("--input-topic", o->params.input_topic, "Frames topic")->capture_default_str();
  add_worker_options(cmd, o->workers);
  cmd->add_flag("!--no-track", o->params.track, "Do not track objects");
  cmd->callback([o, &action] { action = [o] { return run_replay_command(*o); }; });
}

}  // namespace kv::app
