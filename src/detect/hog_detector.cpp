// OpenCV's built-in HOG + linear SVM people detector: needs no model file, so kvision runs
// on any machine. Slower and far less accurate than a learned detector.
#include <cmath>

#include <fmt/format.h>
#include <opencv2/objdetect.hpp>

#include "common/clock.h"
#include "detect/detector.h"
#include "detect/nms.h"

namespace kv::detect {
namespace {

class HogDetector final : public Detector {
 public:
  explicit HogDetector(const DetectorParams& params) : params_(params) {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  }

  const std::string& name() const override { return name_; }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::string engine() const override { return "opencv HOG people detector"; }

  Result<std::vector<Detection>> detect(const cv::Mat& bgr, DetectTimings* timings) override {
    Stopwatch sw;
    std::vector<cv::Rect> rects;
    std::vector<double> weights;
    try {
      hog_.detectMultiScale(bgr, rects, weights, 0, cv::Size(8, 8), cv::Size(), 1.05, 2.0, false);
    } catch (const cv::Exception& e) {  // e.g. an image smaller than the 64x128 window
      return make_error(ErrorCode::kModel, fmt::format("HOG detection failed: {}", e.what()));
    }
    const double infer_ms = sw.lap_ms();
    std::vector<Detection> dets;
    for (size_t i = 0; i < rects.size(); ++i) {
      // The SVM margin is unbounded; a logistic maps it onto 0..1 like the other backends.
      const float score = 1.0f / (1.0f + std::exp(-static_cast<float>(weights[i])));
      if (score < params_.score_threshold) continue;
      const cv::Rect r = rects[i] & cv::Rect(0, 0, bgr.cols, bgr.rows);
      dets.push_back({0, score, cv::Rect2f(r)});
    }
    dets = nms_per_class(std::move(dets), params_.nms_iou, params_.max_detections);
    if (timings != nullptr) *timings = {0.0, infer_ms, sw.lap_ms()};
    return dets;
  }

 private:
  DetectorParams params_;
  cv::HOGDescriptor hog_;
  std::string name_ = "hog-people";
  std::vector<std::string> labels_ = {"person"};
};

}  // namespace

std::unique_ptr<Detector> make_hog_detector(const DetectorParams& params) {
  return std::make_unique<HogDetector>(params);
}

}  // namespace kv::detect
