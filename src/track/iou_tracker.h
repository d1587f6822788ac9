// The plain IoU tracker (Bochinski et al., "High-Speed Tracking-by-Detection Without Using
// Image Information", AVSS 2017): each track takes the detection that overlaps its last box
// most, and ends the first frame nothing does. The baseline kvision's tracker is scored
// against (`kvision eval --track`).
#pragma once

#include <cstdint>
#include <vector>

#include "detect/detection.h"
#include "track/byte_tracker.h"

namespace kv::track {

class IouTracker {
 public:
  explicit IouTracker(float min_score = 0.5f, float min_iou = 0.3f)
      : min_score_(min_score), min_iou_(min_iou) {}

  std::vector<Track> update(const std::vector<detect::Detection>& detections);

 private:
  float min_score_;
  float min_iou_;
  std::vector<Track> tracks_;
  int64_t next_id_ = 1;
};

}  // namespace kv::track
