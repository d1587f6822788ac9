// Bare inference rate of the detectors on a vtest.avi frame, the ceiling for the pipeline:
//   build/bench/bench_detector [--benchmark_filter=Yolox]
// "Detect" is one detector.detect() call (letterbox + forward + decode + NMS) with N engine
// threads; "Parallel" runs one detector per benchmark thread with one engine thread each, the
// layout `kvision detect` uses by default. items_per_second is frames per second.
#include <benchmark/benchmark.h>

#include <opencv2/videoio.hpp>

#include "detect/detector.h"
#include "test_paths.h"

namespace {

cv::Mat vtest_frame() {
  cv::VideoCapture cap(kv::testing::data_dir() + "/vtest.avi");
  cv::Mat frame;
  cap.read(frame);
  return frame;
}

void run_detect(benchmark::State& state, const std::string& model) {
  const cv::Mat frame = vtest_frame();
  if (frame.empty()) return state.SkipWithError("no vtest.avi (scripts/fetch_samples.sh)");
  kv::detect::set_inference_threads(static_cast<int>(state.range(0)));
  kv::detect::DetectorParams params;
  params.model_path = model;
  params.family = "yolox";
  params.input_size = 416;
  auto det = kv::detect::make_detector(params);
  if (!det) return state.SkipWithError(det.error().message.c_str());
  for (auto _ : state) benchmark::DoNotOptimize((*det)->detect(frame, nullptr));
  state.SetItemsProcessed(state.iterations());
}

void BM_YoloxNano_Detect(benchmark::State& state) {
  run_detect(state, kv::testing::yolox_nano_path());
}
BENCHMARK(BM_YoloxNano_Detect)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);

void BM_YoloxNano_Parallel(benchmark::State& state) {
  const cv::Mat frame = vtest_frame();
  if (state.thread_index() == 0) kv::detect::set_inference_threads(1);
  kv::detect::DetectorParams params;
  params.model_path = kv::testing::yolox_nano_path();
  params.family = "yolox";
  params.input_size = 416;
  auto det = kv::detect::make_detector(params);
  if (!det || frame.empty()) return state.SkipWithError("no model or no vtest.avi");
  for (auto _ : state) benchmark::DoNotOptimize((*det)->detect(frame, nullptr));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_YoloxNano_Parallel)
    ->Threads(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);

void BM_Hog_Detect(benchmark::State& state) {
  run_detect(state, "");
}
BENCHMARK(BM_Hog_Detect)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

}  // namespace

BENCHMARK_MAIN();
