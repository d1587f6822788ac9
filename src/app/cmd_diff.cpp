// kvision diff: two result topics compared frame by frame (a replay with another model against
// the live results).

#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "common/clock.h"
#include "common/units.h"
#include "vlog/result_diff.h"

namespace kv::app {
namespace {

struct DiffCliOptions {
  KafkaOptions kafka;
  std::string a;
  std::string b;
  std::string camera;
  std::string from;
  std::string to;
  bool json = false;
  vlog::DiffOptions diff;
};

int run_diff(const DiffCliOptions& o) {
  vlog::DiffSource source;
  source.topic_a = o.a;
  source.topic_b = o.b;
  source.camera = o.camera;
  // Without --to: everything up to now (and a day of clock skew).
  auto range = vlog::parse_time_range(o.from, o.to, 0, wall_now_us() / 1000 + 24LL * 3600 * 1000);
  if (!range) return report_error("diff", range.error());
  source.range = *range;
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("diff", config.error());
  source.kafka = *config;
  auto diff = vlog::diff_topics(source, o.diff);
  if (!diff) return report_error("diff", diff.error());
  const vlog::DiffReport& r = diff->report;
  if (r.frames_compared == 0) {
    return report_error(
        "diff",
        make_error(
            ErrorCode::kNotFound,
            fmt::format("no frame has a result in both {} ({} result(s) read) and {} ({} "
                        "read) in the range: are they results of the same frames?",
                        o.a, diff->scan_a.records_matched, o.b, diff->scan_b.records_matched)));
  }
  if (o.json) {
    nlohmann::json j = vlog::diff_json(r);
    j["unreadable_records"] = diff->unreadable;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::fputs(vlog::format_diff(r).c_str(), stdout);
    if (diff->unreadable > 0)
      std::printf("note: %lld records were not results and were left out\n",
                  static_cast<long long>(diff->unreadable));
  }
  return kExitOk;
}

}  // namespace

void add_diff_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<DiffCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diff",
      "Compare two result topics frame by frame: objects matched by IoU, added, lost and "
      "relabelled, score shifts, per-class totals, and the frames that changed most");
  cmd->footer(
      "Results are paired by camera, ingest session and frame number, so A and B must be "
      "results of the same frames: the live results and a `kvision replay` of them, or two "
      "detect groups on one input. Either topic may be detections or processed_images. "
      "Example:\n  kvision diff --a detections --b replay.fastestdet --from "
      "2026-12-03T13:00:00Z --to 2026-12-03T14:00:00Z");
  add_kafka_options(cmd, o->kafka);
  cmd->add_option("--a", o->a, "The reference results topic (e.g. detections)")->required();
  cmd->add_option("--b", o->b, "The results to compare with it (e.g. a replay's topic)")
      ->required();
  cmd->add_option("--camera", o->camera, "Only this camera (default: every camera)");
  cmd->add_option("--from", o->from,
                  "Only frames captured at or after this time (ISO-8601 UTC or epoch ms)");
  cmd->add_option("--to", o->to, "Only frames captured at or before this time");
  cmd->add_option("--iou", o->diff.iou, "Boxes at or above this IoU are the same object")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 1.0));
  cmd->add_option("--min-score", o->diff.min_score,
                  "Leave out objects below this score on both sides")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top", o->diff.top_frames, "How many of the most changed frames to list")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  cmd->add_flag("--json", o->json, "Print the report as JSON, for tools");
  cmd->callback([o, &action] { action = [o] { return run_diff(*o); }; });
}

}  // namespace kv::app
