// YOLOX through OpenCV DNN: letterbox (top-left, pad 114, BGR 0..255), forward, decode, NMS.
#include <filesystem>

#include <fmt/format.h>
#include <opencv2/dnn.hpp>

#include "common/clock.h"
#include "detect/detector.h"
#include "detect/labels.h"
#include "detect/letterbox.h"
#include "detect/nms.h"
#include "detect/yolox.h"

namespace kv::detect {
namespace {
namespace fs = std::filesystem;

constexpr int kYoloxPad = 114;

Result<std::vector<std::string>> find_labels(const DetectorParams& params) {
  if (!params.labels_path.empty()) return load_labels(params.labels_path);
  const fs::path model(params.model_path);
  for (const fs::path& candidate :
       {fs::path(model).replace_extension(".names"), model.parent_path() / "coco.names"}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return load_labels(candidate.string());
  }
  return coco80_labels();
}

std::string shape_string(const cv::Mat& m) {
  std::string s;
  for (int i = 0; i < m.dims; ++i) s += (i ? "x" : "") + std::to_string(m.size[i]);
  return s;
}

class YoloxDetector final : public Detector {
 public:
  YoloxDetector(cv::dnn::Net net, DetectorParams params, std::vector<std::string> labels)
      : net_(std::move(net)),
        params_(std::move(params)),
        labels_(std::move(labels)),
        name_(fs::path(params_.model_path).stem().string()) {}

  const std::string& name() const override { return name_; }
  const std::vector<std::string>& labels() const override { return labels_; }

  Result<std::vector<Detection>> detect(const cv::Mat& bgr, DetectTimings* timings) override {
    Stopwatch sw;
    const int size = params_.input_size;
    const LetterboxInfo lb = letterbox_top_left(bgr, {size, size}, kYoloxPad, canvas_);
    cv::dnn::blobFromImage(canvas_, blob_, 1.0, cv::Size(size, size), cv::Scalar(), false, false);
    const double pre_ms = sw.lap_ms();
    cv::Mat out;
    try {
      net_.setInput(blob_);
      out = net_.forward();
    } catch (const cv::Exception& e) {
      return make_error(ErrorCode::kModel, fmt::format("inference failed: {}", e.what()));
    }
    const double infer_ms = sw.lap_ms();
    std::vector<Detection> dets =
        decode_yolox(out.ptr<float>(), out.size[1], out.size[2], size, params_.score_threshold);
    dets = nms_per_class(std::move(dets), params_.nms_iou, params_.max_detections);
    for (Detection& d : dets) d.box = unletterbox(d.box, lb);
    // A box that lies wholly in the padding is clipped to nothing: not a detection.
    std::erase_if(dets, [](const Detection& d) { return d.box.width <= 0 || d.box.height <= 0; });
    if (timings != nullptr) *timings = {pre_ms, infer_ms, sw.lap_ms()};
    return dets;
  }

  // Runs one forward pass on a blank input and checks the output against the declared family.
  Status validate() {
    const int size = params_.input_size;
    const int rows = yolox_rows(size);
    const int cols = 5 + static_cast<int>(labels_.size());
    cv::Mat out;
    try {
      cv::Mat blank(size, size, CV_8UC3, cv::Scalar::all(kYoloxPad));
      net_.setInput(
          cv::dnn::blobFromImage(blank, 1.0, cv::Size(size, size), cv::Scalar(), false, false));
      out = net_.forward();
    } catch (const cv::Exception& e) {
      return make_error(ErrorCode::kModel,
                        fmt::format("model '{}' failed a test inference at {}x{}: {}",
                                    params_.model_path, size, size, e.what()));
    }
    if (out.dims != 3 || out.size[0] != 1 || out.size[1] != rows || out.size[2] != cols ||
        out.type() != CV_32F) {
      return make_error(
          ErrorCode::kModel,
          fmt::format("model '{}' does not look like YOLOX: expected output 1x{}x{} (float) for a "
                      "{}x{} input and {} classes, got {}",
                      params_.model_path, rows, cols, size, size, labels_.size(),
                      shape_string(out)));
    }
    return ok_status();
  }

 private:
  cv::dnn::Net net_;
  DetectorParams params_;
  std::vector<std::string> labels_;
  std::string name_;
  cv::Mat canvas_;
  cv::Mat blob_;
};

}  // namespace

Result<std::unique_ptr<Detector>> make_yolox_detector(const DetectorParams& params) {
  if (params.input_size < 32 || params.input_size % 32 != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("input size {} must be a positive multiple of 32", params.input_size));
  }
  auto labels = find_labels(params);
  if (!labels) return labels.error();
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNet(params.model_path);
  } catch (const cv::Exception& e) {
    return make_error(ErrorCode::kModel,
                      fmt::format("cannot load model '{}': {}", params.model_path, e.what()));
  }
  if (net.empty())
    return make_error(ErrorCode::kModel, fmt::format("cannot load model '{}'", params.model_path));
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  auto det = std::make_unique<YoloxDetector>(std::move(net), params, std::move(*labels));
  if (Status s = det->validate(); !s) return s.error();
  return std::unique_ptr<Detector>(std::move(det));
}

}  // namespace kv::detect
