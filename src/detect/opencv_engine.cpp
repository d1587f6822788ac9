// OpenCV DNN as an inference engine: ONNX and Darknet models, on the CPU.
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "detect/inference_engine.h"

namespace kv::detect {
namespace {

// A Darknet cfg with every [yolo] layer's `thresh` set to `score`: OpenCV's importer zeroes
// class scores below it (default 0.2), which would cut the precision/recall curve short.
std::vector<uchar> darknet_cfg_with_thresh(const std::string& cfg, float score) {
  std::ifstream in(cfg);
  std::string out;
  bool in_yolo = false;
  for (std::string line; std::getline(in, line);) {
    const std::string trimmed = line.substr(0, line.find_last_not_of(" \t\r") + 1);
    if (!trimmed.empty() && trimmed[0] == '[') {
      in_yolo = trimmed == "[yolo]";
      out += line + "\n";
      if (in_yolo) out += fmt::format("thresh={}\n", score);
      continue;
    }
    if (in_yolo && trimmed.rfind("thresh", 0) == 0) continue;
    out += line + "\n";
  }
  return {out.begin(), out.end()};
}

class OpenCvEngine final : public InferenceEngine {
 public:
  explicit OpenCvEngine(cv::dnn::Net net)
      : net_(std::move(net)), out_names_(net_.getUnconnectedOutLayersNames()) {}

  std::string describe() const override {
    return fmt::format("opencv {} DNN, {} thread(s)", CV_VERSION, cv::getNumThreads());
  }

  Status run(const cv::Mat& blob, std::vector<cv::Mat>& outputs) override {
    try {
      net_.setInput(blob);
      net_.forward(outputs, out_names_);
    } catch (const cv::Exception& e) {
      return make_error(ErrorCode::kModel, fmt::format("inference failed: {}", e.what()));
    }
    return ok_status();
  }

 private:
  cv::dnn::Net net_;
  std::vector<std::string> out_names_;
};

}  // namespace

Result<std::unique_ptr<InferenceEngine>> make_opencv_engine(const ModelSpec& spec,
                                                            const EngineOptions& options) {
  cv::dnn::Net net;
  try {
    if (spec.family == ModelFamily::kDarknet) {
      std::ifstream w(spec.weights, std::ios::binary);
      const std::vector<uchar> weights((std::istreambuf_iterator<char>(w)),
                                       std::istreambuf_iterator<char>());
      net =
          cv::dnn::readNetFromDarknet(darknet_cfg_with_thresh(spec.config, options.score), weights);
    } else {
      net = cv::dnn::readNet(spec.weights);
    }
  } catch (const cv::Exception& e) {
    return make_error(ErrorCode::kModel,
                      fmt::format("cannot load model '{}': {}", spec.weights, e.what()));
  }
  if (net.empty())
    return make_error(ErrorCode::kModel, fmt::format("cannot load model '{}'", spec.weights));
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return std::unique_ptr<InferenceEngine>(std::make_unique<OpenCvEngine>(std::move(net)));
}

}  // namespace kv::detect
