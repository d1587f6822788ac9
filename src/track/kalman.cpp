#include "track/kalman.h"

#include <algorithm>

#include <opencv2/core.hpp>

namespace kv::track {
namespace {

constexpr double kPositionWeight = 1.0 / 20;
constexpr double kVelocityWeight = 1.0 / 160;

cv::Matx<double, 4, 1> measure(const cv::Rect2f& b) {
  const double h = std::max(1e-3f, b.height);
  return {b.x + b.width / 2.0, b.y + b.height / 2.0, b.width / h, h};
}

}  // namespace

BoxKalman::BoxKalman(const cv::Rect2f& box) {
  const auto z = measure(box);
  for (int i = 0; i < 4; ++i) x_(i) = z(i);
  const double h = z(3);
  const double std[8] = {
      2 * kPositionWeight * h,  2 * kPositionWeight * h,  1e-2, 2 * kPositionWeight * h,
      10 * kVelocityWeight * h, 10 * kVelocityWeight * h, 1e-5, 10 * kVelocityWeight * h};
  p_ = Mat8::zeros();
  for (int i = 0; i < 8; ++i) p_(i, i) = std[i] * std[i];
}

BoxKalman::BoxKalman(const KalmanState& state) {
  for (int i = 0; i < 8; ++i) x_(i) = state.x[static_cast<size_t>(i)];
  for (int i = 0; i < 64; ++i) p_.val[i] = state.p[static_cast<size_t>(i)];
}

KalmanState BoxKalman::state() const {
  KalmanState s;
  for (int i = 0; i < 8; ++i) s.x[static_cast<size_t>(i)] = x_(i);
  for (int i = 0; i < 64; ++i) s.p[static_cast<size_t>(i)] = p_.val[i];
  return s;
}

void BoxKalman::predict() {
  const double h = x_(3);
  const double std[8] = {kPositionWeight * h, kPositionWeight * h, 1e-2, kPositionWeight * h,
                         kVelocityWeight * h, kVelocityWeight * h, 1e-5, kVelocityWeight * h};
  Mat8 f = Mat8::eye();
  for (int i = 0; i < 4; ++i) f(i, i + 4) = 1;
  Mat8 q = Mat8::zeros();
  for (int i = 0; i < 8; ++i) q(i, i) = std[i] * std[i];
  x_ = f * x_;
  p_ = f * p_ * f.t() + q;
}

void BoxKalman::update(const cv::Rect2f& box) {
  const auto z = measure(box);
  const double h = x_(3);
  const double std[4] = {kPositionWeight * h, kPositionWeight * h, 1e-1, kPositionWeight * h};
  cv::Matx<double, 4, 8> hm = cv::Matx<double, 4, 8>::zeros();
  for (int i = 0; i < 4; ++i) hm(i, i) = 1;
  cv::Matx<double, 4, 4> r = cv::Matx<double, 4, 4>::zeros();
  for (int i = 0; i < 4; ++i) r(i, i) = std[i] * std[i];
  const cv::Matx<double, 4, 4> s = hm * p_ * hm.t() + r;
  const cv::Matx<double, 8, 4> k = p_ * hm.t() * s.inv(cv::DECOMP_CHOLESKY);
  x_ += k * (z - hm * x_);
  p_ -= k * s * k.t();
}

cv::Rect2f BoxKalman::box() const {
  const double h = std::max(1e-3, x_(3));
  const double w = x_(2) * h;
  return {static_cast<float>(x_(0) - w / 2), static_cast<float>(x_(1) - h / 2),
          static_cast<float>(w), static_cast<float>(h)};
}

}  // namespace kv::track
