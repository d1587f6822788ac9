// YOLOX-Nano on Debian's dog.jpg against boxes recorded once by an independent decode
// (tools/yolox_reference.py: numpy + cv2.dnn, written from the model's MODEL.md).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "detect/detector.h"
#include "detect/inference_engine.h"
#include "detect/nms.h"
#include "test_paths.h"

namespace kv::detect {
namespace {

struct Expected {
  std::vector<int> class_ids;  // any of these is accepted
  cv::Rect2f box;
};

std::vector<Expected> load_golden() {
  std::ifstream in(std::string(KV_SOURCE_DIR) + "/tests/detect/golden/dog_yolox_nano.json");
  const auto j = nlohmann::json::parse(in);
  std::vector<Expected> out;
  for (const auto& d : j.at("detections")) {
    const int cls = d.at("class_id").get<int>();
    if (cls != 16 && cls != 1 && cls != 2) continue;  // dog, bicycle, car
    const auto& b = d.at("box");
    out.push_back(
        {cls == 2 ? std::vector<int>{2, 7} : std::vector<int>{cls},  // truck accepted for car
         cv::Rect2f(b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>())});
  }
  return out;
}

DetectorParams yolox_params(const std::string& engine) {
  DetectorParams params;
  params.model_path = kv::testing::yolox_nano_path();
  params.family = "yolox";
  params.input_size = 416;
  params.engine = engine;
  return params;
}

// Every engine, on the same pre- and post-processing.
class EngineGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "onnxruntime" && !onnxruntime_available())
      GTEST_SKIP() << "this build has no ONNX Runtime (scripts/fetch_onnxruntime.sh)";
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, EngineGolden, ::testing::Values("onnxruntime", "opencv"));

TEST_P(EngineGolden, YoloxNanoFindsDogBicycleAndCar) {
  const std::string image_path = kv::testing::data_dir() + "/dog.jpg";
  KV_REQUIRE_FILE(image_path);
  KV_REQUIRE_FILE(kv::testing::yolox_nano_path());
  const std::vector<Expected> golden = load_golden();
  ASSERT_EQ(golden.size(), 3u);

  auto detector = make_detector(yolox_params(GetParam()));
  ASSERT_TRUE(detector.ok()) << detector.error().message;
  EXPECT_EQ((*detector)->name(), "yolox_nano");
  EXPECT_EQ((*detector)->engine().rfind(GetParam(), 0), 0u) << (*detector)->engine();
  const cv::Mat img = cv::imread(image_path);
  ASSERT_FALSE(img.empty());
  DetectTimings timings;
  auto dets = (*detector)->detect(img, &timings);
  ASSERT_TRUE(dets.ok()) << dets.error().message;
  EXPECT_GT(timings.infer_ms, 0);

  for (const Expected& e : golden) {
    float best = 0;
    for (const Detection& d : *dets) {
      if (std::find(e.class_ids.begin(), e.class_ids.end(), d.class_id) != e.class_ids.end()) {
        best = std::max(best, iou(d.box, e.box));
      }
    }
    EXPECT_GE(best, 0.9f) << "class " << (*detector)->label(e.class_ids[0])
                          << " not found at the reference box";
  }
  EXPECT_EQ((*detector)->label(16), "dog");
}

TEST(DetectorGolden, EnginesGiveTheSameDetections) {
  const std::string image_path = kv::testing::data_dir() + "/dog.jpg";
  KV_REQUIRE_FILE(image_path);
  KV_REQUIRE_FILE(kv::testing::yolox_nano_path());
  if (!onnxruntime_available()) GTEST_SKIP() << "this build has no ONNX Runtime";
  const cv::Mat img = cv::imread(image_path);
  auto params = yolox_params("onnxruntime");
  params.score_threshold = 0.05f;
  auto ort = make_detector(params);
  params.engine = "opencv";
  auto ocv = make_detector(params);
  ASSERT_TRUE(ort.ok() && ocv.ok());
  auto a = (*ort)->detect(img, nullptr);
  auto b = (*ocv)->detect(img, nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_GE(a->size(), 3u);
  // Float arithmetic in another order: the same objects, scores within 0.01, boxes overlapping.
  int matched = 0;
  for (const Detection& d : *a) {
    for (const Detection& e : *b) {
      if (d.class_id == e.class_id && iou(d.box, e.box) > 0.98f &&
          std::abs(d.score - e.score) < 0.01f) {
        ++matched;
        break;
      }
    }
  }
  EXPECT_GE(matched, static_cast<int>(a->size()) - 1) << a->size() << " vs " << b->size();
  EXPECT_LE(std::abs(static_cast<int>(a->size()) - static_cast<int>(b->size())), 1);
}

TEST(DetectorGolden, AutoPicksOnnxRuntimeForOnnxAndOpenCvForDarknet) {
  KV_REQUIRE_FILE(kv::testing::yolox_nano_path());
  auto d = make_detector(yolox_params("auto"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ((*d)->engine().rfind(onnxruntime_available() ? "onnxruntime" : "opencv", 0), 0u);
  ModelSpec darknet;
  darknet.family = ModelFamily::kDarknet;
  darknet.weights = "m.weights";
  EXPECT_EQ(*choose_engine(EngineKind::kAuto, darknet), EngineKind::kOpenCv);
  auto refused = choose_engine(EngineKind::kOnnxRuntime, darknet);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("Darknet"), std::string::npos);
  EXPECT_FALSE(parse_engine("tensorrt").ok());
}

TEST(DetectorGolden, MissingModelFailsClearly) {
  DetectorParams params;
  params.model_path = "/nonexistent/model.onnx";
  auto d = make_detector(params);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kNotFound);
  EXPECT_NE(d.error().message.find("/nonexistent/model.onnx"), std::string::npos);
}

TEST(DetectorGolden, WrongInputSizeNamesExpectedAndActualShapes) {
  KV_REQUIRE_FILE(kv::testing::yolox_nano_path());
  DetectorParams params;
  params.model_path = kv::testing::yolox_nano_path();
  params.family = "yolox";
  params.input_size = 416;
  params.labels_path =
      std::string(KV_SOURCE_DIR) + "/tests/detect/golden/three.names";  // 3 classes, model has 80
  auto d = make_detector(params);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kModel);
  EXPECT_NE(d.error().message.find("1x3549x8"), std::string::npos) << d.error().message;
  EXPECT_NE(d.error().message.find("1x3549x85"), std::string::npos) << d.error().message;
}

TEST(DetectorGolden, HogFindsPeopleInVtest) {
  const std::string video = kv::testing::data_dir() + "/vtest.avi";
  KV_REQUIRE_FILE(video);
  cv::VideoCapture cap(video);
  cv::Mat frame;
  ASSERT_TRUE(cap.read(frame));
  auto hog = make_detector(DetectorParams{});
  ASSERT_TRUE(hog.ok());
  EXPECT_EQ((*hog)->name(), "hog-people");
  auto dets = (*hog)->detect(frame, nullptr);
  ASSERT_TRUE(dets.ok());
  EXPECT_GE(dets->size(), 1u);
  for (const Detection& d : *dets) EXPECT_EQ(d.class_id, 0);
}

TEST(DetectorGolden, HogReportsOpenCvFailuresAsErrors) {
  // An image OpenCV's HOG refuses (a 4-channel one) is an error, not an escaping exception.
  auto hog = make_detector(DetectorParams{});
  ASSERT_TRUE(hog.ok());
  const cv::Mat rgba(200, 200, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  auto dets = (*hog)->detect(rgba, nullptr);
  ASSERT_FALSE(dets.ok());
  EXPECT_NE(dets.error().message.find("HOG detection failed"), std::string::npos)
      << dets.error().message;
}

}  // namespace
}  // namespace kv::detect
