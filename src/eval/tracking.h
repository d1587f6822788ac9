// `kvision eval --track`: kvision's tracker and the plain IoU tracker on the same detections of
// a video with MOT ground truth, scored by CLEAR-MOT and the identity metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "eval/metrics.h"
#include "track/byte_tracker.h"
#include "track/mot_metrics.h"

namespace kv::eval {

struct TrackerRun {
  std::string name;                               // "bytetrack", "iou"
  std::vector<std::vector<track::Track>> frames;  // per video frame
  track::MotScores scores;
};

// Runs both trackers over frames 0..frames-1 on the person detections (class 0) of `found`
// and scores them against `truth` (its track ids; ignored boxes are don't-care).
std::vector<TrackerRun> evaluate_tracking(int frames, const std::vector<GroundTruth>& truth,
                                          const std::vector<ScoredDetection>& found,
                                          const track::ByteTrackParams& params = {});

// The tracks a kvision pipeline published: detection records, one JSON object per line (as
// `kvision sink` and `kvision run --output` write them), of `camera` (any camera if empty).
// Frame k is the record with seq k; where a frame has several records (redelivered after a
// crash), the last one counts. Person detections with a track ID become tracks. The result
// is scored against `truth` as "pipeline".
Result<TrackerRun> published_tracks(const std::string& jsonl_path, const std::string& camera,
                                    int frames, const std::vector<GroundTruth>& truth);

// MOTChallenge results: frame (1-based), id, left, top, width, height, score, -1, -1, -1.
Status write_mot_results(const std::string& path, const TrackerRun& run);

}  // namespace kv::eval
