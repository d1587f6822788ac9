// The model families on an inference engine (ONNX Runtime or OpenCV DNN): each family is its
// pre-processing, its output shape check and its decode; inference, NMS and timing are shared.
//   yolox:      letterbox at the top-left, pad 114, BGR 0..255; 1 x rows x (5 + classes)
//   fastestdet: plain resize (area), BGR / 255; 1 x (5 + classes) x H/16 x W/16
//   darknet:    plain resize, RGB / 255; one rows x (5 + classes) output per [yolo] layer
#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "common/clock.h"
#include "detect/darknet.h"
#include "detect/detector.h"
#include "detect/fastestdet.h"
#include "detect/inference_engine.h"
#include "detect/labels.h"
#include "detect/letterbox.h"
#include "detect/model_spec.h"
#include "detect/nms.h"
#include "detect/yolox.h"

namespace kv::detect {
namespace {
namespace fs = std::filesystem;

constexpr int kYoloxPad = 114;
constexpr int kFastestDetStride = 16;

std::string shape_string(const cv::Mat& m) {
  std::string s;
  for (int i = 0; i < m.dims; ++i) s += (i ? "x" : "") + std::to_string(m.size[i]);
  return s;
}

Result<std::vector<std::string>> find_labels(const ModelSpec& spec) {
  if (!spec.labels.empty()) return load_labels(spec.labels);
  const fs::path model(spec.weights);
  for (const fs::path& candidate :
       {fs::path(model).replace_extension(".names"), model.parent_path() / "coco.names"}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return load_labels(candidate.string());
  }
  return coco80_labels();
}

class ModelDetector final : public Detector {
 public:
  ModelDetector(std::unique_ptr<InferenceEngine> engine, ModelSpec spec, DetectorParams params,
                std::vector<std::string> labels)
      : engine_(std::move(engine)),
        spec_(std::move(spec)),
        params_(std::move(params)),
        labels_(std::move(labels)),
        name_(fs::path(spec_.weights).stem().string()) {}

  const std::string& name() const override { return name_; }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::string engine() const override { return engine_->describe(); }

  Result<std::vector<Detection>> detect(const cv::Mat& bgr, DetectTimings* timings) override {
    Stopwatch sw;
    if (Status s = preprocess(bgr); !s) return s.error();
    const double pre_ms = sw.lap_ms();
    if (Status s = engine_->run(blob_, outs_); !s) return s.error();
    const double infer_ms = sw.lap_ms();
    std::vector<Detection> dets = decode(bgr.size());
    dets = nms_per_class(std::move(dets), params_.nms_iou, params_.max_detections);
    // A box that lies wholly outside the frame (in the padding) is clipped to nothing.
    std::erase_if(dets, [](const Detection& d) { return d.box.width <= 0 || d.box.height <= 0; });
    if (timings != nullptr) *timings = {pre_ms, infer_ms, sw.lap_ms()};
    return dets;
  }

  cv::Size source_size_for(cv::Size frame) const override {
    if (spec_.family == ModelFamily::kYolox) {  // letterboxed: scaled by r, aspect kept
      const double r = std::min(static_cast<double>(spec_.input_width) / frame.width,
                                static_cast<double>(spec_.input_height) / frame.height);
      if (r >= 1) return frame;
      return {static_cast<int>(std::ceil(frame.width * r)),
              static_cast<int>(std::ceil(frame.height * r))};
    }
    return {std::min(frame.width, spec_.input_width), std::min(frame.height, spec_.input_height)};
  }

  // One forward pass on a blank frame; its outputs must have the family's shapes.
  Status validate() {
    const cv::Mat blank(spec_.input_height, spec_.input_width, CV_8UC3, cv::Scalar::all(0));
    Status s = preprocess(blank);
    if (s) s = engine_->run(blob_, outs_);
    if (!s) {
      return make_error(ErrorCode::kModel,
                        fmt::format("model '{}' failed a test inference at {}x{} ({}): {}",
                                    spec_.weights, spec_.input_width, spec_.input_height,
                                    engine_->describe(), s.error().message));
    }
    const std::string expected = expected_shape();
    std::string actual;
    for (const cv::Mat& m : outs_) actual += (actual.empty() ? "" : ", ") + shape_string(m);
    bool ok = !outs_.empty();
    for (const cv::Mat& m : outs_) ok = ok && m.type() == CV_32F && shape_matches(m);
    if (!ok) {
      return make_error(ErrorCode::kModel,
                        fmt::format("model '{}' does not look like a {} model with {} classes at "
                                    "{}x{}: expected output {}, got {}",
                                    spec_.weights, family_name(spec_.family), labels_.size(),
                                    spec_.input_width, spec_.input_height, expected, actual));
    }
    return ok_status();
  }

 private:
  int cols() const { return 5 + static_cast<int>(labels_.size()); }

  // The family's input blob from a frame, into blob_; OpenCV's exceptions become a Status.
  Status preprocess(const cv::Mat& bgr) {
    const cv::Size input(spec_.input_width, spec_.input_height);
    try {
      switch (spec_.family) {
        case ModelFamily::kYolox:
          letterbox_ = letterbox_top_left(bgr, input, kYoloxPad, canvas_);
          cv::dnn::blobFromImage(canvas_, blob_, 1.0, input, cv::Scalar(), false, false);
          break;
        case ModelFamily::kFastestDet:
          cv::resize(bgr, canvas_, input, 0, 0, cv::INTER_AREA);
          cv::dnn::blobFromImage(canvas_, blob_, 1.0 / 255, input, cv::Scalar(), false, false);
          break;
        case ModelFamily::kDarknet:
          cv::dnn::blobFromImage(bgr, blob_, 1.0 / 255, input, cv::Scalar(), true, false);
          break;
      }
    } catch (const cv::Exception& e) {
      return make_error(ErrorCode::kModel, fmt::format("pre-processing failed: {}", e.what()));
    }
    return ok_status();
  }

  std::string expected_shape() const {
    switch (spec_.family) {
      case ModelFamily::kYolox:
        return fmt::format("1x{}x{}", yolox_rows(spec_.input_width), cols());
      case ModelFamily::kFastestDet:
        return fmt::format("1x{}x{}x{}", cols(), spec_.input_height / kFastestDetStride,
                           spec_.input_width / kFastestDetStride);
      case ModelFamily::kDarknet:
        return fmt::format("Nx{} per [yolo] layer", cols());
    }
    return "?";
  }

  bool shape_matches(const cv::Mat& m) const {
    switch (spec_.family) {
      case ModelFamily::kYolox:
        return m.dims == 3 && m.size[0] == 1 && m.size[1] == yolox_rows(spec_.input_width) &&
               m.size[2] == cols();
      case ModelFamily::kFastestDet:
        return m.dims == 4 && m.size[0] == 1 && m.size[1] == cols() &&
               m.size[2] == spec_.input_height / kFastestDetStride &&
               m.size[3] == spec_.input_width / kFastestDetStride;
      case ModelFamily::kDarknet:
        return m.dims == 2 && m.size[1] == cols();
    }
    return false;
  }

  std::vector<Detection> decode(cv::Size frame) const {
    const float score = params_.score_threshold;
    std::vector<Detection> dets;
    switch (spec_.family) {
      case ModelFamily::kYolox: {
        const cv::Mat& out = outs_.front();
        dets = decode_yolox(out.ptr<float>(), out.size[1], out.size[2], spec_.input_width, score);
        for (Detection& d : dets) d.box = unletterbox(d.box, letterbox_);
        break;
      }
      case ModelFamily::kFastestDet: {
        const cv::Mat& out = outs_.front();
        dets = decode_fastestdet(out.ptr<float>(), out.size[1], out.size[2], out.size[3],
                                 frame.width, frame.height, score);
        break;
      }
      case ModelFamily::kDarknet:
        for (const cv::Mat& out : outs_) {
          auto part = decode_darknet(out.ptr<float>(), out.size[0], out.size[1], frame.width,
                                     frame.height, score);
          dets.insert(dets.end(), part.begin(), part.end());
        }
        break;
    }
    // Clip to the frame (the letterbox mapping clips already).
    const cv::Rect2f bounds(0, 0, static_cast<float>(frame.width),
                            static_cast<float>(frame.height));
    for (Detection& d : dets) d.box &= bounds;
    return dets;
  }

  std::unique_ptr<InferenceEngine> engine_;
  ModelSpec spec_;
  DetectorParams params_;
  std::vector<std::string> labels_;
  std::string name_;
  cv::Mat canvas_;
  cv::Mat blob_;
  std::vector<cv::Mat> outs_;
  LetterboxInfo letterbox_;
};

}  // namespace

Result<std::unique_ptr<Detector>> make_model_detector(const DetectorParams& params) {
  ModelFlags flags;
  flags.model = params.model_path;
  flags.family = params.family;
  flags.config = params.config_path;
  flags.labels = params.labels_path;
  flags.input_size = params.input_size;
  auto spec = resolve_model(flags);
  if (!spec) return spec.error();
  if (spec->family == ModelFamily::kYolox && spec->input_width != spec->input_height) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("YOLOX input must be square, got {}x{}", spec->input_width,
                                  spec->input_height));
  }
  if (spec->input_width % 32 != 0 || spec->input_height % 32 != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("input size {}x{} must be multiples of 32", spec->input_width,
                                  spec->input_height));
  }
  auto labels = find_labels(*spec);
  if (!labels) return labels.error();
  auto requested = parse_engine(params.engine);
  if (!requested) return requested.error();
  auto kind = choose_engine(*requested, *spec);
  if (!kind) return kind.error();
  const EngineOptions options{inference_threads(), params.score_threshold, inter_op_threads()};
  auto engine = *kind == EngineKind::kOnnxRuntime ? make_onnxruntime_engine(*spec, options)
                                                  : make_opencv_engine(*spec, options);
  if (!engine) return engine.error();
  auto det = std::make_unique<ModelDetector>(std::move(*engine), *spec, params, std::move(*labels));
  if (Status s = det->validate(); !s) return s.error();
  return std::unique_ptr<Detector>(std::move(det));
}

}  // namespace kv::detect
