// What runs a model's network: ONNX Runtime (the default for ONNX models, where it is built
// in) or OpenCV DNN (Darknet models, and the fallback). The model families' pre- and
// post-processing (model_detector.cpp) is the same for both.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/result.h"
#include "detect/model_spec.h"

namespace kv::detect {

enum class EngineKind { kAuto, kOnnxRuntime, kOpenCv };

// "auto", "onnxruntime", "opencv"; kInvalidArgument otherwise.
Result<EngineKind> parse_engine(const std::string& name);
const char* engine_name(EngineKind kind);
// Whether this build carries ONNX Runtime, and its version ("" when not).
bool onnxruntime_available();
std::string onnxruntime_version();

// The engine `requested` resolves to for `spec`: kAuto is ONNX Runtime for ONNX models where
// it is built in, else OpenCV. kInvalidArgument when ONNX Runtime is asked for a Darknet model
// or is not built in.
Result<EngineKind> choose_engine(EngineKind requested, const ModelSpec& spec);

// Runs one network. Thread-safety: one thread at a time (one per detector).
class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;
  // Engine name and settings, for logs: "onnxruntime 1.23.2, 2 threads".
  virtual std::string describe() const = 0;
  // Runs the network on an NCHW float blob. The outputs are float tensors; they stay valid
  // until the next run().
  virtual Status run(const cv::Mat& blob, std::vector<cv::Mat>& outputs) = 0;
};

struct EngineOptions {
  int threads = 0;        // intra-op threads per inference; <= 0: the engine's default
  float score = 0.3f;     // Darknet: OpenCV's importer drops class scores below it
  int inter_threads = 1;  // ONNX Runtime: > 1 runs independent nodes at once (ORT_PARALLEL)
};

Result<std::unique_ptr<InferenceEngine>> make_opencv_engine(const ModelSpec& spec,
                                                            const EngineOptions& options);
// kInvalidArgument when this build has no ONNX Runtime.
Result<std::unique_ptr<InferenceEngine>> make_onnxruntime_engine(const ModelSpec& spec,
                                                                 const EngineOptions& options);

}  // namespace kv::detect
