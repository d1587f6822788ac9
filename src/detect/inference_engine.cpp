#include "detect/inference_engine.h"

#include <fmt/format.h>

namespace kv::detect {

Result<EngineKind> parse_engine(const std::string& name) {
  if (name == "auto") return EngineKind::kAuto;
  if (name == "onnxruntime") return EngineKind::kOnnxRuntime;
  if (name == "opencv") return EngineKind::kOpenCv;
  return make_error(
      ErrorCode::kInvalidArgument,
      fmt::format("unknown engine '{}' (expected auto, onnxruntime or opencv)", name));
}

const char* engine_name(EngineKind kind) {
  switch (kind) {
    case EngineKind::kAuto:
      return "auto";
    case EngineKind::kOnnxRuntime:
      return "onnxruntime";
    case EngineKind::kOpenCv:
      return "opencv";
  }
  return "?";
}

Result<EngineKind> choose_engine(EngineKind requested, const ModelSpec& spec) {
  const bool onnx = spec.family != ModelFamily::kDarknet;
  switch (requested) {
    case EngineKind::kAuto:
      return onnx && onnxruntime_available() ? EngineKind::kOnnxRuntime : EngineKind::kOpenCv;
    case EngineKind::kOnnxRuntime:
      if (!onnx) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("ONNX Runtime runs ONNX models; '{}' is a Darknet model "
                                      "(use --engine opencv or auto)",
                                      spec.weights));
      }
      if (!onnxruntime_available()) return make_onnxruntime_engine(spec, {}).error();
      return requested;
    case EngineKind::kOpenCv:
      return requested;
  }
  return requested;
}

}  // namespace kv::detect
