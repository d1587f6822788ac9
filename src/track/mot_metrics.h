// Tracking accuracy as the MOTChallenge reports it:
//  - CLEAR-MOT (Bernardin and Stiefelhagen, 2008): per frame, last frame's correspondences
//    are kept while they still overlap, the rest are matched by minimum cost; MOTA =
//    1 - (misses + false positives + identity switches) / ground-truth boxes.
//  - Identity scores (Ristani et al., 2016): ground-truth and hypothesis trajectories are
//    paired one to one so as to agree on the most frames; IDF1 = 2 IDTP / (GT + hypotheses).
// A match needs IoU >= min_iou (0.5). Ground truth marked `ignore` (MOT's "don't care") is
// left out, with the hypotheses that match it.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core/types.hpp>

namespace kv::track {

struct MotBox {
  int64_t id = 0;
  cv::Rect2f box;
  bool ignore = false;  // ground truth only
};

struct MotFrame {
  std::vector<MotBox> gt;
  std::vector<MotBox> hyp;
};

struct MotScores {
  int64_t gt = 0;   // ground-truth boxes counted
  int64_t hyp = 0;  // hypothesis boxes counted
  int64_t matches = 0;
  int64_t misses = 0;           // FN
  int64_t false_positives = 0;  // FP
  int64_t id_switches = 0;
  double mota = 0;
  double motp = 0;  // mean IoU of the matches
  int64_t idtp = 0;
  double idf1 = 0;
  double idp = 0;  // IDTP / hypotheses
  double idr = 0;  // IDTP / ground truth
  int64_t gt_tracks = 0;
  int64_t hyp_tracks = 0;
};

MotScores score_mot(const std::vector<MotFrame>& frames, float min_iou = 0.5f);

}  // namespace kv::track
