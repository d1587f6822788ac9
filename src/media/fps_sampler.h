#pragma once

#include <cstdint>

namespace kv::media {

// Picks frames from a stream so that the kept ones are spaced 1/target_fps apart in stream
// time. target_fps <= 0 keeps every frame. Pure; one instance per stream.
class FpsSampler {
 public:
  explicit FpsSampler(double target_fps) : target_fps_(target_fps) {}

  // True if the frame at stream position pos_ms should be kept.
  bool take(double pos_ms);

 private:
  double target_fps_;
  double next_due_ms_ = -1;
};

}  // namespace kv::media
