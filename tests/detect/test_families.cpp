// FastestDet and Darknet decoding on synthetic tensors, and model sidecars.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "detect/darknet.h"
#include "detect/fastestdet.h"
#include "detect/model_spec.h"

namespace kv::detect {
namespace {

float logit(float p) {
  return std::log(p / (1 - p));
}

TEST(FastestDet, DecodesOneCellToImagePixels) {
  constexpr int kClasses = 3;
  constexpr int kChannels = 5 + kClasses;
  constexpr int kGrid = 4;
  std::vector<float> t(static_cast<size_t>(kChannels * kGrid * kGrid), 0.0f);
  auto at = [&](int c, int r, int col) -> float& {
    return t[static_cast<size_t>((c * kGrid + r) * kGrid + col)];
  };
  // Cell (row 1, col 2): centre offsets tanh^-1(0.5), size sigmoid^-1(0.25 / 0.5).
  at(0, 1, 2) = 0.81f;  // objectness
  at(1, 1, 2) = std::atanh(0.5f);
  at(2, 1, 2) = std::atanh(0.5f);
  at(3, 1, 2) = logit(0.25f);
  at(4, 1, 2) = logit(0.5f);
  at(5 + 2, 1, 2) = 0.9f;  // class 2
  at(5 + 0, 1, 2) = 0.1f;
  const auto dets = decode_fastestdet(t.data(), kChannels, kGrid, kGrid, 800, 400, 0.5f);
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_EQ(dets[0].class_id, 2);
  EXPECT_NEAR(dets[0].score, std::pow(0.81f, 0.6f) * std::pow(0.9f, 0.4f), 1e-5);
  // cx = (2 + 0.5) / 4 = 0.625, cy = (1 + 0.5) / 4 = 0.375, w = 0.25, h = 0.5 of 800 x 400.
  EXPECT_NEAR(dets[0].box.x, (0.625f - 0.125f) * 800, 1e-2);
  EXPECT_NEAR(dets[0].box.y, (0.375f - 0.25f) * 400, 1e-2);
  EXPECT_NEAR(dets[0].box.width, 200, 1e-2);
  EXPECT_NEAR(dets[0].box.height, 200, 1e-2);
  EXPECT_TRUE(decode_fastestdet(t.data(), kChannels, kGrid, kGrid, 800, 400, 0.95f).empty());
}

TEST(Darknet, ClassScoresAreTheScore) {
  constexpr int kCols = 5 + 2;
  const std::vector<float> t = {
      0.5f, 0.5f, 0.2f, 0.4f, 0.9f, 0.10f, 0.70f,  // class 1 at 0.7
      0.1f, 0.1f, 0.1f, 0.1f, 0.9f, 0.00f, 0.00f,  // zeroed by the layer: not a detection
  };
  const auto dets = decode_darknet(t.data(), 2, kCols, 100, 50, 0.001f);
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_EQ(dets[0].class_id, 1);
  EXPECT_FLOAT_EQ(dets[0].score, 0.7f);
  EXPECT_NEAR(dets[0].box.x, 40, 1e-4);  // (0.5 - 0.1) * 100
  EXPECT_NEAR(dets[0].box.y, 15, 1e-4);  // (0.5 - 0.2) * 50
  EXPECT_NEAR(dets[0].box.width, 20, 1e-4);
  EXPECT_NEAR(dets[0].box.height, 20, 1e-4);
}

class Sidecars : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kv_models_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "m");
    write("m/net.onnx", "x");
    write("m/net.cfg", "[net]\n");
    write("m/net.weights", "x");
    write("m/names.txt", "a\nb\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(Sidecars, SpecFileResolvesPathsBesideIt) {
  write(
      "spec.json",
      R"({"family": "yolox", "weights": "m/net.onnx", "labels": "m/names.txt", "input": [320, 320]})");
  auto spec = resolve_model({path("spec.json")});
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->family, ModelFamily::kYolox);
  EXPECT_EQ(spec->weights, path("m/net.onnx"));
  EXPECT_EQ(spec->labels, path("m/names.txt"));
  EXPECT_EQ(spec->input_width, 320);
}

TEST_F(Sidecars, SidecarBesideTheWeightsAndFlagsOverrideIt) {
  write("m/net.json", R"({"family": "fastestdet", "input": [352, 352]})");
  ModelFlags flags{path("m/net.onnx")};
  auto spec = resolve_model(flags);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->family, ModelFamily::kFastestDet);
  EXPECT_EQ(spec->input_width, 352);
  flags.family = "yolox";
  flags.input_size = 416;
  spec = resolve_model(flags);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->family, ModelFamily::kYolox);
  EXPECT_EQ(spec->input_height, 416);
}

TEST_F(Sidecars, DarknetFindsItsCfgBesideTheWeights) {
  auto spec = resolve_model({path("m/net.weights"), "darknet", "", "", 320});
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->config, path("m/net.cfg"));
}

TEST_F(Sidecars, ClearErrors) {
  auto no_family = resolve_model({path("m/net.onnx")});
  ASSERT_FALSE(no_family.ok());
  EXPECT_NE(no_family.error().message.find("--family"), std::string::npos);
  auto no_size = resolve_model({path("m/net.onnx"), "yolox"});
  ASSERT_FALSE(no_size.ok());
  EXPECT_NE(no_size.error().message.find("--input-size"), std::string::npos);
  auto bad_family = resolve_model({path("m/net.onnx"), "resnet", "", "", 416});
  ASSERT_FALSE(bad_family.ok());
  EXPECT_NE(bad_family.error().message.find("resnet"), std::string::npos);
  auto missing = resolve_model({path("m/none.onnx"), "yolox", "", "", 416});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  write("typo.json", R"({"family": "yolox", "weigths": "m/net.onnx"})");
  auto typo = resolve_model({path("typo.json")});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("weigths"), std::string::npos);
  write("broken.json", "{");
  EXPECT_FALSE(resolve_model({path("broken.json")}).ok());
}

}  // namespace
}  // namespace kv::detect
