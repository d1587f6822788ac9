// kvision store: results into a database (SQLite), written idempotently, offsets committed
// only once the write is durable. kvision query: search it, one JSON object per line.
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "kafka/consumer.h"
#include "media/frame_source.h"
#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"
#include "store/detection_store.h"
#include "store/frame_files.h"
#include "store/query_text.h"
#include "store/store_stage.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct StoreOptions {
  KafkaOptions kafka;
  std::string db = "kvision-detections.db";
  std::string topic;  // detections, or processed_images when frames are kept
  std::string group = "kvision-store";
  std::string frames_dir;
  std::string keep_age = "0";
  std::string keep_size = "0";
  int batch = 100;
  int batch_ms = 200;
  MetricsOptions metrics;
};

int run_store(const StoreOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("store", config.error());
  const std::string topic =
      !o.topic.empty()
          ? o.topic
          : std::string(o.frames_dir.empty() ? wire::kDetectionsTopic : wire::kProcessedTopic);
  std::unique_ptr<store::FrameFiles> files;
  if (!o.frames_dir.empty()) {
    if (topic == wire::kDetectionsTopic) {
      return report_error("store", make_error(ErrorCode::kInvalidArgument,
                                              "--frames-dir needs --topic processed_images: the "
                                              "detections topic carries no images"));
    }
    store::Retention keep;
    auto age = parse_duration(o.keep_age);
    if (!age) return report_error("store", age.error());
    auto size = parse_size(o.keep_size);
    if (!size) return report_error("store", size.error());
    keep = {*age, *size};
    auto opened = store::FrameFiles::open(o.frames_dir, keep);
    if (!opened) return report_error("store", opened.error());
    files = std::move(*opened);
    const int64_t removed = files->enforce();
    log_info("store: frames in {} ({} files, {:.1f} MB{}), keeping {} and {}", o.frames_dir,
             files->files(), files->bytes() / 1e6,
             removed > 0 ? fmt::format(" after removing {}", removed) : "",
             keep.max_age_us > 0 ? "up to " + o.keep_age + " old" : "any age",
             keep.max_bytes > 0 ? "up to " + o.keep_size : "any size");
  }
  auto db = store::DetectionStore::open(o.db);
  if (!db) return report_error("store", db.error());
  auto consumer = kafka::Consumer::create(*config, o.group);
  if (!consumer) return report_error("store", consumer.error());
  if (Status s = (*consumer)->subscribe({topic}); !s) return report_error("store", s.error());
  auto server = start_metrics(o.metrics, [] { return std::string(); });
  if (!server) return report_error("store", server.error());
  metrics::build_info("store", "");
  log_info("store: group '{}' on {} -> {}", o.group, topic, media::redact_uri(o.db));
  std::stop_source stop;
  SignalBridge bridge(stop);

  store::StoreStage stage(**db, files.get(), {o.batch, o.batch_ms});
  auto run = pipeline::run_subscriber(**consumer, stage, {.stage = "store"}, stop.get_token());
  if (!run) return report_error("store", run.error());
  log_info("store: {} records read ({} new frames stored, {} bad)", run->records,
           stage.new_frames(), run->bad_records);
  return kExitOk;
}

struct QueryOptions {
  std::string db = "kvision-detections.db";
  std::string camera;
  std::string label;
  int64_t track = 0;
  bool tracks = false;  // per-track summaries instead of detections
  std::string from;
  std::string to;
  double min_score = 0;
  std::string zone;
  bool normalised = false;
  int64_t limit = 1000;
  std::string frames_dir;
};

int run_query(const QueryOptions& o) {
  std::map<std::string, std::string> params{{"camera", o.camera},
                                            {"label", o.label},
                                            {"track", o.track > 0 ? std::to_string(o.track) : ""},
                                            {"from", o.from},
                                            {"to", o.to},
                                            {"zone", o.zone},
                                            {"limit", std::to_string(o.limit)},
                                            {"min_score", std::to_string(o.min_score)}};
  auto q = store::query_from_params(params);
  if (!q) return report_error("query", q.error());
  q->zone_normalised = o.normalised;
  auto db = store::DetectionStore::open(o.db);
  if (!db) return report_error("query", db.error());
  if (o.tracks) {
    auto tracks = (*db)->tracks(*q);
    if (!tracks) return report_error("query", tracks.error());
    for (const store::TrackSummary& t : *tracks)
      std::printf("%s\n", store::track_summary_json(t).c_str());
    if (static_cast<int64_t>(tracks->size()) == q->limit)
      log_warn("query: stopped at --limit {}; more may match", q->limit);
    return kExitOk;
  }
  auto rows = (*db)->query(*q);
  if (!rows) return report_error("query", rows.error());
  for (const store::StoredDetection& d : *rows) {
    std::printf("%s\n", store::stored_detection_json(d, o.frames_dir).c_str());
  }
  if (static_cast<int64_t>(rows->size()) == q->limit) {
    log_warn("query: stopped at --limit {}; more may match", q->limit);
  }
  return kExitOk;
}

}  // namespace

void add_store_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<StoreOptions>();
  CLI::App* cmd = app.add_subcommand(
      "store",
      "Store results in a SQLite database for search (kvision query); idempotent, offsets "
      "committed only after the write is durable");
  add_kafka_options(cmd, o->kafka);
  add_metrics_option(cmd, o->metrics);
  cmd->add_option("--db", o->db, "SQLite file (or sqlite:PATH), or postgresql://USER@HOST:PORT/DB")
      ->capture_default_str();
  cmd->add_option("--topic", o->topic,
                  "detections (the default), or processed_images (the default with --frames-dir)");
  cmd->add_option("--group,-g", o->group, "Consumer group")->capture_default_str();
  cmd->add_option("--frames-dir", o->frames_dir,
                  "Also keep each frame's JPEG here, as CAMERA/SESSION-SEQ.jpg");
  cmd->add_option("--keep-age", o->keep_age,
                  "Delete kept frames older than this (24h, 30m; 0: keep)")
      ->capture_default_str();
  cmd->add_option("--keep-size", o->keep_size,
                  "Delete the oldest kept frames beyond this total (500MB, 2G; 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Records per database transaction (at most)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->callback([o, &action] { action = [o] { return run_store(*o); }; });

  auto q = std::make_shared<QueryOptions>();
  CLI::App* qc = app.add_subcommand(
      "query", "Search stored detections; one JSON object per line, with the frame reference");
  qc->add_option("--db", q->db,
                 "Database written by kvision store (SQLite file or postgresql://...)")
      ->capture_default_str();
  qc->add_option("--camera", q->camera, "Only this camera");
  qc->add_option("--label", q->label, "Only this label (person, car, ...)");
  qc->add_option("--track", q->track, "Only this tracked object (its track ID; with --camera)")
      ->check(CLI::PositiveNumber);
  qc->add_flag("--tracks", q->tracks,
               "Instead: one line per tracked object, with first and last seen, duration and "
               "path (the other filters apply to its detections)");
  qc->add_option("--from", q->from, "Captured at or after (2026-11-25T02:31:04Z or epoch ms)");
  qc->add_option("--to", q->to, "Captured before (same forms)");
  qc->add_option("--min-score", q->min_score, "Minimum score")->check(CLI::Range(0.0, 1.0));
  qc->add_option("--zone", q->zone,
                 "Polygon \"x,y x,y x,y ...\" the box's bottom centre must lie in (pixels)");
  qc->add_flag("--normalised", q->normalised, "--zone is in 0..1 of the frame's size");
  qc->add_option("--limit", q->limit, "At most this many results")->capture_default_str();
  qc->add_option("--frames-dir", q->frames_dir,
                 "Where kvision store keeps frames: results name their JPEG when it is there");
  qc->callback([q, &action] { action = [q] { return run_query(*q); }; });
}

}  // namespace kv::app
