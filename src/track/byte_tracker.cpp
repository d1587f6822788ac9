#include "track/byte_tracker.h"

#include <algorithm>

#include "detect/nms.h"
#include "track/assignment.h"

namespace kv::track {

void ByteTracker::match(const std::vector<Slot*>& slots,
                        const std::vector<const detect::Detection*>& dets, float min_iou,
                        bool weigh_score, std::vector<int>& slot_to_det) const {
  slot_to_det.assign(slots.size(), -1);
  if (slots.empty() || dets.empty()) return;
  std::vector<std::vector<double>> cost(slots.size(), std::vector<double>(dets.size(), 1.0));
  for (size_t s = 0; s < slots.size(); ++s) {
    const cv::Rect2f predicted = slots[s]->filter.box();
    for (size_t d = 0; d < dets.size(); ++d) {
      if (dets[d]->class_id != slots[s]->class_id) continue;
      const float overlap = detect::iou(predicted, dets[d]->box);
      cost[s][d] = 1.0 - (weigh_score ? overlap * dets[d]->score : overlap);
    }
  }
  for (auto [s, d] : min_cost_assignment(cost, 1.0 - min_iou)) slot_to_det[s] = d;
}

ByteTracker::ByteTracker(ByteTrackParams params, const TrackerSnapshot& snapshot)
    : params_(params), frame_(snapshot.frame), next_id_(snapshot.next_id) {
  for (const TrackerSnapshot::Slot& in : snapshot.slots) {
    Slot s{in.id, in.class_id, in.score, BoxKalman(in.filter)};
    s.state = in.state == TrackerSnapshot::State::kLost ? State::kLost : State::kTracked;
    s.confirmed = in.confirmed;
    s.last_frame = in.last_frame;
    slots_.push_back(std::move(s));
  }
}

TrackerSnapshot ByteTracker::snapshot() const {
  TrackerSnapshot out;
  out.frame = frame_;
  out.next_id = next_id_;
  for (const Slot& s : slots_) {
    out.slots.push_back(
        {s.id, s.class_id, s.score,
         s.state == State::kLost ? TrackerSnapshot::State::kLost : TrackerSnapshot::State::kTracked,
         s.confirmed, s.last_frame, s.filter.state()});
  }
  return out;
}

std::vector<Track> ByteTracker::label(const std::vector<detect::Detection>& detections) const {
  constexpr float kMinIou = 0.3f;
  std::vector<const Slot*> followed;
  for (const Slot& s : slots_) {
    if (s.state == State::kTracked && s.confirmed) followed.push_back(&s);
  }
  std::vector<std::vector<double>> cost(followed.size(),
                                        std::vector<double>(detections.size(), 1.0));
  for (size_t s = 0; s < followed.size(); ++s) {
    for (size_t d = 0; d < detections.size(); ++d) {
      if (detections[d].class_id != followed[s]->class_id) continue;
      cost[s][d] = 1.0 - detect::iou(followed[s]->filter.box(), detections[d].box);
    }
  }
  std::vector<Track> out;
  for (auto [s, d] : min_cost_assignment(cost, 1.0 - kMinIou)) {
    const Slot& slot = *followed[static_cast<size_t>(s)];
    const detect::Detection& det = detections[static_cast<size_t>(d)];
    out.push_back({slot.id, slot.class_id, det.score, det.box, d});
  }
  return out;
}

std::vector<Track> ByteTracker::update(const std::vector<detect::Detection>& detections) {
  ++frame_;
  std::vector<const detect::Detection*> high, low;
  for (const detect::Detection& d : detections) {
    if (d.score >= params_.high_score) {
      high.push_back(&d);
    } else if (d.score >= params_.low_score) {
      low.push_back(&d);
    }
  }
  std::vector<Slot*> pool, unconfirmed;
  for (Slot& s : slots_) {
    s.filter.predict();
    (s.confirmed ? pool : unconfirmed).push_back(&s);
  }
  auto take = [this, &detections](Slot& s, const detect::Detection& d) {
    s.filter.update(d.box);
    s.score = d.score;
    s.state = State::kTracked;
    s.last_frame = frame_;
    s.matched = static_cast<int>(&d - detections.data());
  };

  // 1. Followed and lost tracks against the confident detections.
  std::vector<int> m;
  match(pool, high, params_.match_iou, true, m);
  std::vector<bool> high_used(high.size(), false);
  std::vector<Slot*> left;  // followed tracks not matched yet
  for (size_t i = 0; i < pool.size(); ++i) {
    if (m[i] >= 0) {
      take(*pool[i], *high[static_cast<size_t>(m[i])]);
      high_used[static_cast<size_t>(m[i])] = true;
    } else if (pool[i]->state == State::kTracked) {
      left.push_back(pool[i]);
    }
  }
  // 2. Followed tracks left over against the low-score detections; the rest are lost.
  match(left, low, params_.low_match_iou, false, m);
  for (size_t i = 0; i < left.size(); ++i) {
    if (m[i] >= 0) {
      take(*left[i], *low[static_cast<size_t>(m[i])]);
    } else {
      left[i]->state = State::kLost;
    }
  }
  // 3. Unconfirmed tracks against the confident detections left over.
  std::vector<const detect::Detection*> rest;
  std::vector<size_t> rest_index;
  for (size_t d = 0; d < high.size(); ++d) {
    if (!high_used[d]) {
      rest.push_back(high[d]);
      rest_index.push_back(d);
    }
  }
  match(unconfirmed, rest, params_.unconfirmed_iou, true, m);
  for (size_t i = 0; i < unconfirmed.size(); ++i) {
    if (m[i] >= 0) {
      take(*unconfirmed[i], *rest[static_cast<size_t>(m[i])]);
      unconfirmed[i]->confirmed = true;
      high_used[rest_index[static_cast<size_t>(m[i])]] = true;
    } else {
      unconfirmed[i]->state = State::kRemoved;
    }
  }
  // 4. New tracks; lost ones that waited too long die.
  for (size_t d = 0; d < high.size(); ++d) {
    if (high_used[d] || high[d]->score < params_.new_track_score) continue;
    Slot s{next_id_++, high[d]->class_id, high[d]->score, BoxKalman(high[d]->box)};
    s.confirmed = frame_ == 1;
    s.last_frame = frame_;
    s.matched = static_cast<int>(high[d] - detections.data());
    slots_.push_back(std::move(s));
  }
  for (Slot& s : slots_) {
    if (s.state == State::kLost && frame_ - s.last_frame > params_.max_lost)
      s.state = State::kRemoved;
  }
  std::erase_if(slots_, [](const Slot& s) { return s.state == State::kRemoved; });

  std::vector<Track> out;
  for (const Slot& s : slots_) {
    if (s.state != State::kTracked || !s.confirmed || s.last_frame != frame_) continue;
    out.push_back({s.id, s.class_id, s.score, s.filter.box(), s.matched});
  }
  return out;
}

}  // namespace kv::track
