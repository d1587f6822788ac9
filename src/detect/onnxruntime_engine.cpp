// ONNX Runtime (CPU execution provider) as an inference engine, through its C++ API. Built
// only where CMake found ONNX Runtime (KV_HAVE_ONNXRUNTIME); see scripts/fetch_onnxruntime.sh.
#include "detect/inference_engine.h"

#ifdef KV_HAVE_ONNXRUNTIME

#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>

#include <mutex>

#include <fmt/format.h>

namespace kv::detect {
namespace {

// The library may be newer than the headers (never older): ask it for the headers' API.
Status init_api() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    const OrtApiBase* base = OrtGetApiBase();
    const OrtApi* api = base->GetApi(ORT_API_VERSION);
    if (api == nullptr) {
      status = make_error(ErrorCode::kModel,
                          fmt::format("the ONNX Runtime library ({}) is older than the headers "
                                      "kvision was built with (C API {})",
                                      base->GetVersionString(), ORT_API_VERSION));
      return;
    }
    Ort::InitApi(api);
  });
  return status;
}

Ort::Env& env() {
  static Ort::Env e(ORT_LOGGING_LEVEL_WARNING, "kvision");
  return e;
}

class OnnxRuntimeEngine final : public InferenceEngine {
 public:
  OnnxRuntimeEngine(Ort::Session session, int threads, int inter_threads)
      : session_(std::move(session)), threads_(threads), inter_threads_(inter_threads) {
    Ort::AllocatorWithDefaultOptions alloc;
    input_name_ = session_.GetInputNameAllocated(0, alloc).get();
    for (size_t i = 0; i < session_.GetOutputCount(); ++i)
      output_names_.push_back(session_.GetOutputNameAllocated(i, alloc).get());
    for (const std::string& n : output_names_) output_ptrs_.push_back(n.c_str());
  }

  std::string describe() const override {
    return fmt::format(
        "onnxruntime {}, {} thread(s){}", onnxruntime_version(),
        threads_ > 0 ? std::to_string(threads_) : "default",
        inter_threads_ > 1 ? fmt::format(", {} inter-op (parallel nodes)", inter_threads_) : "");
  }

  Status run(const cv::Mat& blob, std::vector<cv::Mat>& outputs) override {
    try {
      std::vector<int64_t> shape;
      for (int i = 0; i < blob.dims; ++i) shape.push_back(blob.size[i]);
      // A view of the blob: nothing is copied.
      Ort::Value input = Ort::Value::CreateTensor<float>(
          cpu_, const_cast<float*>(blob.ptr<float>()), blob.total(), shape.data(), shape.size());
      const char* input_name = input_name_.c_str();
      values_ = session_.Run(Ort::RunOptions{nullptr}, &input_name, &input, 1, output_ptrs_.data(),
                             output_ptrs_.size());
      outputs.clear();
      for (Ort::Value& v : values_) {
        const Ort::TensorTypeAndShapeInfo info = v.GetTensorTypeAndShapeInfo();
        if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
          return make_error(ErrorCode::kModel, "the model's output is not float");
        std::vector<int> dims;
        for (int64_t d : info.GetShape()) dims.push_back(static_cast<int>(d));
        outputs.emplace_back(static_cast<int>(dims.size()), dims.data(), CV_32F,
                             v.GetTensorMutableData<float>());
      }
    } catch (const Ort::Exception& e) {
      return make_error(ErrorCode::kModel, fmt::format("inference failed: {}", e.what()));
    }
    return ok_status();
  }

 private:
  Ort::Session session_;
  const Ort::MemoryInfo cpu_ = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  int threads_;
  int inter_threads_;
  std::string input_name_;
  std::vector<std::string> output_names_;
  std::vector<const char*> output_ptrs_;
  std::vector<Ort::Value> values_;  // the last outputs, which run()'s Mats view
};

}  // namespace

bool onnxruntime_available() {
  return true;
}

std::string onnxruntime_version() {
  return OrtGetApiBase()->GetVersionString();
}

Result<std::unique_ptr<InferenceEngine>> make_onnxruntime_engine(const ModelSpec& spec,
                                                                 const EngineOptions& options) {
  if (Status s = init_api(); !s) return s.error();
  try {
    Ort::SessionOptions so;
    if (options.threads > 0) so.SetIntraOpNumThreads(options.threads);
    so.SetInterOpNumThreads(std::max(1, options.inter_threads));
    so.SetExecutionMode(options.inter_threads > 1 ? ExecutionMode::ORT_PARALLEL
                                                  : ExecutionMode::ORT_SEQUENTIAL);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    // Workers share the cores: a thread that waits sleeps rather than spins.
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    Ort::Session session(env(), spec.weights.c_str(), so);
    if (session.GetInputCount() != 1) {
      return make_error(ErrorCode::kModel,
                        fmt::format("model '{}' has {} inputs; a detector takes one image",
                                    spec.weights, session.GetInputCount()));
    }
    // A static input must be the size the sidecar or the flags give (OpenCV resizes its
    // network to the blob; ONNX Runtime does not).
    const std::vector<int64_t> dims =
        session.GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape();
    if (dims.size() == 4 && dims[2] > 0 && dims[3] > 0 &&
        (dims[2] != spec.input_height || dims[3] != spec.input_width)) {
      return make_error(ErrorCode::kModel,
                        fmt::format("model '{}' takes a {}x{} input, not the {}x{} its {} sidecar "
                                    "or --input-size gives (is --family right?)",
                                    spec.weights, dims[3], dims[2], spec.input_width,
                                    spec.input_height, family_name(spec.family)));
    }
    return std::unique_ptr<InferenceEngine>(std::make_unique<OnnxRuntimeEngine>(
        std::move(session), options.threads, std::max(1, options.inter_threads)));
  } catch (const Ort::Exception& e) {
    return make_error(ErrorCode::kModel, fmt::format("cannot load model '{}' in ONNX Runtime: {}",
                                                     spec.weights, e.what()));
  }
}

}  // namespace kv::detect

#else  // no ONNX Runtime in this build

#include <fmt/format.h>

namespace kv::detect {

bool onnxruntime_available() {
  return false;
}

std::string onnxruntime_version() {
  return "";
}

Result<std::unique_ptr<InferenceEngine>> make_onnxruntime_engine(const ModelSpec&,
                                                                 const EngineOptions&) {
  return make_error(ErrorCode::kInvalidArgument,
                    "this kvision was built without ONNX Runtime (run scripts/setup.sh, which "
                    "fetches it, then rebuild); --engine opencv runs the model with OpenCV DNN");
}

}  // namespace kv::detect

#endif
