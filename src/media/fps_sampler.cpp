#include "media/fps_sampler.h"

#include <cmath>

namespace kv::media {

bool FpsSampler::take(double pos_ms) {
  if (target_fps_ <= 0) return true;
  const double period_ms = 1000.0 / target_fps_;
  // Half a millisecond of slack absorbs timestamp rounding in containers.
  if (next_due_ms_ >= 0 && pos_ms + 0.5 < next_due_ms_) return false;
  if (next_due_ms_ < 0) {
    next_due_ms_ = pos_ms + period_ms;
  } else {
    // Advance on the grid, skipping slots that a gap in the stream jumped over.
    next_due_ms_ +=
        period_ms * std::max(1.0, std::floor((pos_ms + 0.5 - next_due_ms_) / period_ms) + 1);
  }
  return true;
}

}  // namespace kv::media
