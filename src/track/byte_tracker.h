// Multi-object tracking in the ByteTrack family (Zhang et al., "ByteTrack: Multi-Object
// Tracking by Associating Every Detection Box", ECCV 2022), written from the paper's
// description: a Kalman motion model per track and two-stage association each frame.
//
//  1. Tracks (followed and recently lost) are predicted one frame ahead and matched to the
//     confident detections (score >= high_score) by IoU, scores weighing in.
//  2. Followed tracks left over are matched to the low-score detections (low_score <= score <
//     high_score), which are often the occluded objects that stage 1 misses. Those still
//     unmatched are lost.
//  3. Tracks born last frame and not confirmed yet get a match from the confident detections
//     left over, or die.
//  4. Confident detections left over (score >= new_track_score) start tracks, confirmed once
//     they are matched again (at once on the very first frame). Lost tracks die after
//     `max_lost` frames.
//
// Detections of different classes never match. Thread-safety: one thread (one camera).
#pragma once

#include <cstdint>
#include <vector>

#include "detect/detection.h"
#include "track/kalman.h"

namespace kv::track {

struct ByteTrackParams {
  // Tuned on vtest frames 1-530 with YOLOX-Nano (docs/tracking.md): the paper's MOT17 values
  // (0.5, 0.6, 0.2) gave MOTA 0.668 and IDF1 0.511 there; these give 0.824 and 0.650.
  float high_score = 0.6f;       // confident detections: first association, new tracks
  float low_score = 0.1f;        // below this, a detection is ignored
  float new_track_score = 0.8f;  // a confident detection left over starts a track
  float match_iou = 0.1f;        // stage 1: IoU (times the score) at least this
  float low_match_iou = 0.5f;    // stage 2
  float unconfirmed_iou = 0.3f;  // stage 3
  int max_lost = 30;             // frames a lost track may wait for its object
};

struct Track {
  int64_t id = 0;  // 1, 2, ... per tracker
  int class_id = 0;
  float score = 0;     // of the detection last matched
  cv::Rect2f box;      // the filter's estimate after this frame's update
  int detection = -1;  // the index of its detection in this frame's input
};

// Everything a tracker knows, to continue it elsewhere exactly (another process, after a
// crash): restoring a snapshot and feeding both the same frames gives the same tracks.
struct TrackerSnapshot {
  enum class State : uint8_t { kTracked = 0, kLost = 1 };
  struct Slot {
    int64_t id = 0;
    int class_id = 0;
    float score = 0;
    State state = State::kTracked;
    bool confirmed = false;
    int64_t last_frame = 0;
    KalmanState filter;
  };
  int64_t frame = 0;
  int64_t next_id = 1;
  std::vector<Slot> slots;
};

class ByteTracker {
 public:
  explicit ByteTracker(ByteTrackParams params = {}) : params_(params) {}
  ByteTracker(ByteTrackParams params, const TrackerSnapshot& snapshot);

  // One frame's detections, in capture order; returns the tracks followed in this frame.
  std::vector<Track> update(const std::vector<detect::Detection>& detections);
  // A frame the tracker has already seen (a redelivery after a crash): its detections get the
  // IDs of the current tracks they overlap best (IoU >= 0.3), and the tracker is not changed.
  std::vector<Track> label(const std::vector<detect::Detection>& detections) const;

  TrackerSnapshot snapshot() const;
  int64_t frames() const { return frame_; }

 private:
  enum class State { kTracked, kLost, kRemoved };
  struct Slot {
    int64_t id = 0;
    int class_id = 0;
    float score = 0;
    BoxKalman filter;
    State state = State::kTracked;
    bool confirmed = false;
    int64_t last_frame = 0;  // the last frame it was matched
    int matched = -1;        // the index of the detection it took in the current frame
  };
  void match(const std::vector<Slot*>& slots, const std::vector<const detect::Detection*>& dets,
             float min_iou, bool weigh_score, std::vector<int>& slot_to_det) const;

  ByteTrackParams params_;
  std::vector<Slot> slots_;
  int64_t frame_ = 0;
  int64_t next_id_ = 1;
};

}  // namespace kv::track
