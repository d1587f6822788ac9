#include "detect/detector.h"

#include <algorithm>
#include <atomic>
#include <filesystem>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>

namespace kv::detect {

namespace {
std::atomic<int> g_inference_threads{0};
std::atomic<int> g_inter_op_threads{1};
}  // namespace

void set_inference_threads(int threads) {
  g_inference_threads = std::max(0, threads);
  cv::setNumThreads(threads > 0 ? threads : -1);
}

int inference_threads() {
  return g_inference_threads.load();
}

void set_inter_op_threads(int threads) {
  g_inter_op_threads = std::max(1, threads);
}

int inter_op_threads() {
  return g_inter_op_threads.load();
}

std::string Detector::label(int class_id) const {
  const auto& l = labels();
  if (class_id >= 0 && static_cast<size_t>(class_id) < l.size())
    return l[static_cast<size_t>(class_id)];
  return fmt::format("class{}", class_id);
}

std::string engine_name(const Detector& detector) {
  const std::string text = detector.engine();
  return text.substr(0, text.find(' '));
}

Result<std::unique_ptr<Detector>> make_detector(const DetectorParams& params) {
  if (params.model_path.empty()) return make_hog_detector(params);
  return make_model_detector(params);
}

}  // namespace kv::detect
