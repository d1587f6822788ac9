// The per-frame steps around inference, each alone, on a vtest.avi frame:
//   build/bench/bench_steps
// JPEG decode (full and scaled for a 416 model), letterbox + blob preparation, YOLOX output
// decoding + NMS on a real model output, and encoding/decoding a detection record.
#include <cstdio>  // jpeglib.h needs FILE

#include <benchmark/benchmark.h>
#include <jpeglib.h>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "detect/letterbox.h"
#include "detect/nms.h"
#include "detect/yolox.h"
#include "media/jpeg.h"
#include "test_paths.h"
#include "wire/detection_record.h"
#include "wire/frame_headers.h"

namespace {

const cv::Mat& vtest_frame() {
  static const cv::Mat frame = [] {
    cv::VideoCapture cap(kv::testing::data_dir() + "/vtest.avi");
    cv::Mat f;
    cap.read(f);
    return f;
  }();
  return frame;
}

void BM_JpegDecodeFull(benchmark::State& state) {
  if (vtest_frame().empty()) return state.SkipWithError("no vtest.avi");
  auto bytes = kv::media::encode_jpeg(vtest_frame(), 80);
  for (auto _ : state) benchmark::DoNotOptimize(kv::media::decode_jpeg(*bytes));
}
BENCHMARK(BM_JpegDecodeFull)->Unit(benchmark::kMicrosecond);

void BM_JpegDecodeScaledFor416(benchmark::State& state) {
  if (vtest_frame().empty()) return state.SkipWithError("no vtest.avi");
  auto bytes = kv::media::encode_jpeg(vtest_frame(), 80);
  for (auto _ : state)
    benchmark::DoNotOptimize(kv::media::decode_jpeg_at_least(*bytes, {416, 312}, nullptr));
}
BENCHMARK(BM_JpegDecodeScaledFor416)->Unit(benchmark::kMicrosecond);

// libjpeg's own scales, arg/8, called directly: only the powers of two have SIMD IDCTs, which
// is why decode_jpeg_at_least uses no others.
void BM_JpegDecodeAtScale(benchmark::State& state) {
  if (vtest_frame().empty()) return state.SkipWithError("no vtest.avi");
  auto bytes = kv::media::encode_jpeg(vtest_frame(), 80);
  cv::Mat out;
  for (auto _ : state) {
    jpeg_decompress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes->data(), static_cast<unsigned long>(bytes->size()));
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_EXT_BGR;
    cinfo.scale_num = static_cast<unsigned>(state.range(0));
    cinfo.scale_denom = 8;
    jpeg_start_decompress(&cinfo);
    out.create(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width),
               CV_8UC3);
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = out.ptr<uint8_t>(static_cast<int>(cinfo.output_scanline));
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    benchmark::DoNotOptimize(out.data);
  }
  state.SetLabel(std::to_string(out.cols) + "x" + std::to_string(out.rows));
}
BENCHMARK(BM_JpegDecodeAtScale)->DenseRange(1, 8)->Unit(benchmark::kMicrosecond);

void BM_JpegEncodeQ80(benchmark::State& state) {
  if (vtest_frame().empty()) return state.SkipWithError("no vtest.avi");
  for (auto _ : state) benchmark::DoNotOptimize(kv::media::encode_jpeg(vtest_frame(), 80));
}
BENCHMARK(BM_JpegEncodeQ80)->Unit(benchmark::kMicrosecond);

// Letterbox to 416x416 and the NCHW float blob, from the full frame (arg 0) or from a
// 480x360 one (arg 1).
void BM_LetterboxAndBlob(benchmark::State& state) {
  if (vtest_frame().empty()) return state.SkipWithError("no vtest.avi");
  cv::Mat src = vtest_frame();
  if (state.range(0) == 1) cv::resize(vtest_frame(), src, {480, 360}, 0, 0, cv::INTER_AREA);
  cv::Mat canvas;
  cv::Mat blob;
  for (auto _ : state) {
    kv::detect::letterbox_top_left(src, {416, 416}, 114, canvas);
    cv::dnn::blobFromImage(canvas, blob, 1.0, {416, 416}, cv::Scalar(), false, false);
    benchmark::DoNotOptimize(blob.data);
  }
}
BENCHMARK(BM_LetterboxAndBlob)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// Decode + NMS on YOLOX-Nano's real output for the frame, at the display threshold (0.3) and
// the evaluation threshold (0.001).
void BM_YoloxDecodeAndNms(benchmark::State& state) {
  if (vtest_frame().empty()) return state.SkipWithError("no vtest.avi");
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNet(kv::testing::yolox_nano_path());
  } catch (const cv::Exception&) {
    return state.SkipWithError("no YOLOX-Nano model");
  }
  cv::Mat canvas;
  kv::detect::letterbox_top_left(vtest_frame(), {416, 416}, 114, canvas);
  net.setInput(cv::dnn::blobFromImage(canvas, 1.0, {416, 416}, cv::Scalar(), false, false));
  const cv::Mat out = net.forward();
  const float threshold = state.range(0) == 0 ? 0.3f : 0.001f;
  for (auto _ : state) {
    auto dets =
        kv::detect::decode_yolox(out.ptr<float>(), out.size[1], out.size[2], 416, threshold);
    benchmark::DoNotOptimize(kv::detect::nms_per_class(std::move(dets), 0.45f, 100));
  }
}
BENCHMARK(BM_YoloxDecodeAndNms)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

kv::wire::DetectionRecord sample_record(int objects) {
  kv::wire::DetectionRecord r;
  r.frame.camera = "lobby";
  r.frame.seq = 123456;
  r.frame.session_us = 1795560000000000;
  r.frame.capture_us = 1795560012345678;
  r.frame.width = 768;
  r.frame.height = 576;
  r.source = {"raw_video_frames", 2, 98765};
  r.model = "yolox_nano";
  r.processed_us = r.frame.capture_us + 61000;
  for (int i = 0; i < objects; ++i)
    r.detections.push_back({0, "person", 0.9f - 0.01f * i, {10.5f * i, 20, 31, 75}});
  return r;
}

void BM_DetectionRecordEncode(benchmark::State& state) {
  const auto r = sample_record(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(kv::wire::encode_detection_record(r));
}
BENCHMARK(BM_DetectionRecordEncode)->Arg(8)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_DetectionRecordDecode(benchmark::State& state) {
  const std::string json =
      kv::wire::encode_detection_record(sample_record(static_cast<int>(state.range(0))));
  for (auto _ : state) benchmark::DoNotOptimize(kv::wire::decode_detection_record(json));
}
BENCHMARK(BM_DetectionRecordDecode)->Arg(8)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_FrameHeadersEncodeDecode(benchmark::State& state) {
  kv::wire::FrameMeta meta = sample_record(0).frame;
  for (auto _ : state) {
    auto headers = kv::wire::encode_frame_headers(meta);
    benchmark::DoNotOptimize(kv::wire::decode_frame_headers(headers));
  }
}
BENCHMARK(BM_FrameHeadersEncodeDecode)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
