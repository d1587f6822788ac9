#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/result.h"
#include "detect/detection.h"

namespace kv::detect {

struct DetectorParams {
  // The model's weights (.onnx, Darknet .weights) or its JSON sidecar (see model_spec.h);
  // empty: OpenCV's HOG people detector. The fields below override the sidecar.
  std::string model_path;
  std::string family;       // yolox, fastestdet, darknet
  std::string config_path;  // Darknet .cfg
  std::string labels_path;  // else "<model>.names" or "coco.names" beside it, else COCO-80
  int input_size = 0;       // square model input, pixels; 0: from the sidecar
  float score_threshold = 0.3f;
  float nms_iou = 0.45f;
  size_t max_detections = 100;
  // What runs the network: auto (ONNX Runtime for ONNX models where it is built in, else
  // OpenCV DNN), onnxruntime or opencv. See inference_engine.h.
  std::string engine = "auto";
};

// Milliseconds spent in each step of one detect() call.
struct DetectTimings {
  double preprocess_ms = 0;
  double infer_ms = 0;
  double postprocess_ms = 0;
};

// Finds objects in a BGR frame. Boxes come back in the frame's pixels.
// Thread-safety: not thread-safe; use one instance per thread.
class Detector {
 public:
  virtual ~Detector() = default;
  virtual const std::string& name() const = 0;
  virtual const std::vector<std::string>& labels() const = 0;
  // What runs it, for logs: its first word is the engine ("onnxruntime 1.23.2, 2 thread(s)").
  virtual std::string engine() const { return ""; }
  virtual Result<std::vector<Detection>> detect(const cv::Mat& bgr, DetectTimings* timings) = 0;

  // The smallest size a frame of `frame` pixels can be given at without losing anything this
  // model sees (its input is smaller): frames may be decoded that small, which is cheaper, and
  // the boxes scaled back. The frame's own size when the model needs it whole.
  virtual cv::Size source_size_for(cv::Size frame) const { return frame; }

  // The label for a class id, or "class<N>" when the id is out of range.
  std::string label(int class_id) const;
};

// The engine's name alone: the first word of Detector::engine() ("onnxruntime", "opencv").
std::string engine_name(const Detector& detector);

// Loads the detector described by `params`. Fails with kNotFound for a missing model and
// kModel when the model does not load or its output shape is not what its family declares.
Result<std::unique_ptr<Detector>> make_detector(const DetectorParams& params);

// Backends, exposed for tests.
Result<std::unique_ptr<Detector>> make_model_detector(const DetectorParams& params);
std::unique_ptr<Detector> make_hog_detector(const DetectorParams& params);

}  // namespace kv::detect

namespace kv::detect {
// Threads each inference may use inside the engine: process-wide for OpenCV DNN, and the
// default of detectors made afterwards for ONNX Runtime; <= 0: the engine's default.
void set_inference_threads(int threads);
int inference_threads();
// ONNX Runtime's inter-op threads for detectors made afterwards: 1 (the default) runs the
// graph's nodes one after another (ORT_SEQUENTIAL); more runs independent nodes at once
// (ORT_PARALLEL) on that many threads. OpenCV DNN has no such setting.
void set_inter_op_threads(int threads);
int inter_op_threads();
}  // namespace kv::detect
