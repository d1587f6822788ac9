// COCO-style detection metrics, as pycocotools computes them: per class and IoU threshold
// (0.50:0.05:0.95), detections are matched greedily in descending score order to the unmatched
// ground-truth box of highest IoU; a detection matching only an ignored box (COCO's iscrowd,
// MOT's don't-care) counts neither way; precision is made monotone and sampled at 101 recall
// points; AP is their mean. Classes without ground truth are left out of the means.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "detect/detection.h"

namespace kv::eval {

struct GroundTruth {
  int64_t image_id = 0;
  int class_id = 0;  // contiguous (0 = person)
  cv::Rect2f box;
  bool ignore = false;    // crowd / don't-care: matching it is neither a hit nor a false alarm
  int64_t track_id = -1;  // MOT ground truth: the object's identity
};

struct ScoredDetection {
  int64_t image_id = 0;
  detect::Detection det;
};

struct ClassAp {
  int class_id = 0;
  int gt_count = 0;  // boxes that count (not ignored)
  double ap = 0;     // mean over the 10 IoU thresholds
  double ap50 = 0;
  double ap75 = 0;
};

struct EvalReport {
  double map = 0;  // mAP@[.5:.95] over the classes with ground truth
  double ap50 = 0;
  double ap75 = 0;
  std::vector<ClassAp> classes;  // ascending class id, only classes with ground truth
  int images = 0;
  int detections = 0;
};

struct EvalParams {
  size_t max_detections_per_image = 100;  // per image and class, the highest-scoring first
  std::vector<int> only_classes;          // empty: every class with ground truth
};

// `images` lists every evaluated image id: images without ground truth still count their
// detections as false alarms.
EvalReport evaluate(const std::vector<int64_t>& images, const std::vector<GroundTruth>& truth,
                    const std::vector<ScoredDetection>& detections, const EvalParams& params = {});

// AP of one precision/recall curve by 101-point interpolation (exposed for tests): `hits` holds,
// for detections in descending score order, whether each was a true positive.
double average_precision_101(const std::vector<bool>& hits, int positives);

}  // namespace kv::eval
