// One multi-object tracker per camera, inside the detect stage, and the records that let
// another member continue a camera's tracks when its partition moves (docs/tracking.md).
//
// Results leave the detect stage in capture order per camera (OrderedRelease), and apply()
// runs there, so each tracker sees its camera's frames in order. After each frame the
// camera's whole tracker state is published to the tracker-state topic, keyed by camera, on
// the input record's partition number, with the results (in exactly-once mode, in the same
// transaction). The member that takes a partition over reads that partition's recent state
// records before it processes a frame, and the camera's IDs continue.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "track/byte_tracker.h"
#include "wire/detection_record.h"

namespace kv::pipeline {

// A camera's tracker with where it stands in the camera's sequence.
struct CameraTrackState {
  std::string camera;
  int32_t partition = 0;   // the input partition the camera's frames come from
  int64_t session_us = 0;  // ingest session of the last frame applied
  int64_t seq = -1;        // the last frame applied
  track::TrackerSnapshot tracker;
};

// The state record's value (binary, little-endian, versioned; docs/wire-format.md).
std::string encode_track_state(const CameraTrackState& state);
Result<CameraTrackState> decode_track_state(std::span<const uint8_t> value);

// Thread-safety: every method may be called from any thread.
class CameraTrackers {
 public:
  explicit CameraTrackers(track::ByteTrackParams params = {}) : params_(params) {}

  // Sets the track IDs of the record's detections and returns the camera's new state record
  // value. A frame the camera's tracker has seen already (same ingest session, a sequence
  // number not above the last one: a redelivery after a crash) is labelled from the current
  // tracks and changes nothing. A new ingest session starts the camera's tracks afresh; IDs
  // keep counting up, so an ID is never used twice for one camera.
  std::string apply(wire::DetectionRecord& record);

  // Takes a camera's state from a state record (the newest one read wins: call in offset
  // order). A record that does not decode is an error and changes nothing.
  Status restore(std::span<const uint8_t> value);
  // Drops the cameras whose frames come from these input partitions (revoked), or all.
  void forget(const std::vector<int32_t>& partitions);
  void clear();

  size_t cameras() const;

 private:
  struct Camera {
    int32_t partition = 0;
    int64_t session_us = 0;
    int64_t seq = -1;
    track::ByteTracker tracker;
  };
  track::ByteTrackParams params_;
  mutable std::mutex mu_;
  std::map<std::string, Camera> cameras_;
};

}  // namespace kv::pipeline
