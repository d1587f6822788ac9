// A constant-velocity Kalman filter over a box's centre, aspect ratio and height, as SORT,
// DeepSORT and ByteTrack use it: state (cx, cy, a, h) and their velocities, process and
// measurement noise proportional to the box's height (a tall, near box moves more pixels).
#pragma once

#include <array>

#include <opencv2/core/matx.hpp>
#include <opencv2/core/types.hpp>

namespace kv::track {

// The filter's whole state, to save and restore it exactly.
struct KalmanState {
  std::array<double, 8> x{};   // cx, cy, a, h and their velocities
  std::array<double, 64> p{};  // covariance, row by row
};

class BoxKalman {
 public:
  // Starts at `box` (x, y, w, h), at rest, with a wide uncertainty on velocity.
  explicit BoxKalman(const cv::Rect2f& box);
  explicit BoxKalman(const KalmanState& state);
  KalmanState state() const;

  // One frame ahead.
  void predict();
  // Corrects the state with a measured box.
  void update(const cv::Rect2f& box);
  // The current estimate as a box.
  cv::Rect2f box() const;

 private:
  using Vec8 = cv::Matx<double, 8, 1>;
  using Mat8 = cv::Matx<double, 8, 8>;
  Vec8 x_;
  Mat8 p_;
};

}  // namespace kv::track
