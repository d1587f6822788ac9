#include "track/iou_tracker.h"

#include "detect/nms.h"
#include "track/assignment.h"

namespace kv::track {

std::vector<Track> IouTracker::update(const std::vector<detect::Detection>& detections) {
  std::vector<const detect::Detection*> dets;
  for (const detect::Detection& d : detections) {
    if (d.score >= min_score_) dets.push_back(&d);
  }
  std::vector<std::vector<double>> cost(tracks_.size(), std::vector<double>(dets.size(), 1.0));
  for (size_t t = 0; t < tracks_.size(); ++t) {
    for (size_t d = 0; d < dets.size(); ++d) {
      if (dets[d]->class_id == tracks_[t].class_id)
        cost[t][d] = 1.0 - detect::iou(tracks_[t].box, dets[d]->box);
    }
  }
  std::vector<Track> next;
  std::vector<bool> used(dets.size(), false);
  for (auto [t, d] : min_cost_assignment(cost, 1.0 - min_iou_)) {
    Track tr = tracks_[static_cast<size_t>(t)];
    tr.box = dets[static_cast<size_t>(d)]->box;
    tr.score = dets[static_cast<size_t>(d)]->score;
    next.push_back(tr);
    used[static_cast<size_t>(d)] = true;
  }
  for (size_t d = 0; d < dets.size(); ++d) {
    if (!used[d]) next.push_back({next_id_++, dets[d]->class_id, dets[d]->score, dets[d]->box});
  }
  tracks_ = next;
  return next;
}

}  // namespace kv::track
