#include "eval/tracking.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "track/iou_tracker.h"
#include "wire/detection_record.h"

namespace kv::eval {
namespace {

track::MotScores score(int frames, const std::vector<GroundTruth>& truth,
                       const std::vector<std::vector<track::Track>>& tracks) {
  std::vector<track::MotFrame> mot(static_cast<size_t>(frames));
  for (const GroundTruth& g : truth) {
    if (g.image_id < 0 || g.image_id >= frames) continue;
    mot[static_cast<size_t>(g.image_id)].gt.push_back({g.track_id, g.box, g.ignore});
  }
  for (size_t k = 0; k < tracks.size(); ++k)
    for (const track::Track& t : tracks[k]) mot[k].hyp.push_back({t.id, t.box, false});
  return track::score_mot(mot);
}

}  // namespace

std::vector<TrackerRun> evaluate_tracking(int frames, const std::vector<GroundTruth>& truth,
                                          const std::vector<ScoredDetection>& found,
                                          const track::ByteTrackParams& params) {
  std::vector<std::vector<detect::Detection>> per_frame(static_cast<size_t>(frames));
  for (const ScoredDetection& d : found) {
    if (d.det.class_id == 0 && d.image_id >= 0 && d.image_id < frames)
      per_frame[static_cast<size_t>(d.image_id)].push_back(d.det);
  }
  TrackerRun ours{"bytetrack", {}, {}};
  TrackerRun baseline{"iou", {}, {}};
  track::ByteTracker byte(params);
  track::IouTracker iou(params.high_score);
  for (const auto& dets : per_frame) {
    // Scored as the pipeline publishes them: each track at its matched detection's box.
    std::vector<track::Track> tracks = byte.update(dets);
    for (track::Track& t : tracks) {
      if (t.detection >= 0) t.box = dets[static_cast<size_t>(t.detection)].box;
    }
    ours.frames.push_back(std::move(tracks));
    baseline.frames.push_back(iou.update(dets));
  }
  ours.scores = score(frames, truth, ours.frames);
  baseline.scores = score(frames, truth, baseline.frames);
  return {std::move(ours), std::move(baseline)};
}

Result<TrackerRun> published_tracks(const std::string& jsonl_path, const std::string& camera,
                                    int frames, const std::vector<GroundTruth>& truth) {
  std::ifstream in(jsonl_path);
  if (!in) return make_error(ErrorCode::kNotFound, fmt::format("cannot open '{}'", jsonl_path));
  TrackerRun run{
      "pipeline", std::vector<std::vector<track::Track>>(static_cast<size_t>(frames)), {}};
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    auto rec = wire::decode_detection_record(line);
    if (!rec) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("{}:{}: {}", jsonl_path, lineno, rec.error().message));
    }
    if (!camera.empty() && rec->frame.camera != camera) continue;
    if (rec->frame.seq < 0 || rec->frame.seq >= frames) continue;
    std::vector<track::Track>& tracks = run.frames[static_cast<size_t>(rec->frame.seq)];
    tracks.clear();  // the last record of a frame counts
    for (const wire::DetectedObject& d : rec->detections) {
      if (d.class_id != 0 || d.track_id <= 0) continue;
      tracks.push_back({d.track_id, d.class_id, d.score, {d.box.x, d.box.y, d.box.w, d.box.h}});
    }
  }
  run.scores = score(frames, truth, run.frames);
  return run;
}

Status write_mot_results(const std::string& path, const TrackerRun& run) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "w"), &std::fclose);
  if (!out) return make_error(ErrorCode::kIo, fmt::format("cannot write '{}'", path));
  for (size_t k = 0; k < run.frames.size(); ++k) {
    for (const track::Track& t : run.frames[k]) {
      std::fprintf(out.get(), "%zu,%lld,%.2f,%.2f,%.2f,%.2f,%.3f,-1,-1,-1\n", k + 1,
                   static_cast<long long>(t.id), t.box.x, t.box.y, t.box.width, t.box.height,
                   t.score);
    }
  }
  if (std::fflush(out.get()) != 0)
    return make_error(ErrorCode::kIo, fmt::format("writing '{}' failed", path));
  return ok_status();
}

}  // namespace kv::eval
