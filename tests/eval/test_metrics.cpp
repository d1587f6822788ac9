// COCO-style AP: hand-computed curves, matching order, ignored boxes, images without truth.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "eval/datasets.h"
#include "eval/metrics.h"

namespace kv::eval {
namespace {

ScoredDetection det(int64_t image, int cls, float score, cv::Rect2f box) {
  ScoredDetection d;
  d.image_id = image;
  d.det.class_id = cls;
  d.det.score = score;
  d.det.box = box;
  return d;
}

TEST(AveragePrecision, InterpolatesAt101RecallPoints) {
  EXPECT_DOUBLE_EQ(average_precision_101({true, true}, 2), 1.0);
  // recall .5 .5 1, precision 1 .5 .667 -> monotone 1 .667 .667: 51 points at 1, 50 at 2/3.
  EXPECT_NEAR(average_precision_101({true, false, true}, 2), (51 + 50 * 2.0 / 3.0) / 101, 1e-12);
  // Half the boxes never found: recall stops at .5.
  EXPECT_NEAR(average_precision_101({true}, 2), 51.0 / 101, 1e-12);
  EXPECT_DOUBLE_EQ(average_precision_101({false, false}, 3), 0.0);
}

TEST(Evaluate, PerfectDetectionsScoreOne) {
  const std::vector<GroundTruth> truth = {{1, 0, {0, 0, 10, 10}, false},
                                          {1, 2, {20, 20, 30, 10}, false}};
  const auto r =
      evaluate({1}, truth, {det(1, 0, 0.9f, {0, 0, 10, 10}), det(1, 2, 0.5f, {20, 20, 30, 10})});
  EXPECT_DOUBLE_EQ(r.map, 1.0);
  ASSERT_EQ(r.classes.size(), 2u);
  EXPECT_EQ(r.classes[1].class_id, 2);
}

TEST(Evaluate, ALooseBoxHitsOnlyAtLowThresholds) {
  // IoU 0.62: a hit at 0.50, 0.55, 0.60; at 0.65 and above the tight, lower-scored box is
  // the hit and the loose one a false alarm before it.
  const std::vector<GroundTruth> truth = {{1, 0, {0, 0, 10, 10}, false}};
  const auto r =
      evaluate({1}, truth, {det(1, 0, 0.95f, {0, 0, 10, 6.2f}), det(1, 0, 0.9f, {0, 0, 10, 10})});
  EXPECT_DOUBLE_EQ(r.ap50, 1.0);
  EXPECT_NEAR(r.ap75, 0.5, 1e-12);
  EXPECT_NEAR(r.map, (3 * 1.0 + 7 * 0.5) / 10, 1e-12);
}

TEST(Evaluate, MatchingAnIgnoredBoxCountsNeitherWay) {
  const std::vector<GroundTruth> truth = {{1, 0, {0, 0, 10, 10}, false},
                                          {1, 0, {50, 50, 10, 10}, true}};
  const auto r = evaluate({1}, truth,
                          {det(1, 0, 0.9f, {50, 50, 10, 10}), det(1, 0, 0.85f, {100, 0, 10, 10}),
                           det(1, 0, 0.8f, {0, 0, 10, 10})});
  ASSERT_EQ(r.classes.size(), 1u);
  EXPECT_EQ(r.classes[0].gt_count, 1);
  EXPECT_NEAR(r.ap50, 0.5, 1e-12);  // a false alarm, then the hit: precision 1/2 at recall 1
}

TEST(Evaluate, ImagesWithoutTruthStillCountFalseAlarmsAndUnlabelledClassesAreLeftOut) {
  const std::vector<GroundTruth> truth = {{1, 0, {0, 0, 10, 10}, false}};
  const auto r = evaluate({1, 2}, truth,
                          {det(2, 0, 0.9f, {0, 0, 10, 10}), det(1, 0, 0.8f, {0, 0, 10, 10}),
                           det(1, 5, 0.99f, {0, 0, 5, 5})});
  ASSERT_EQ(r.classes.size(), 1u);  // class 5 has no ground truth
  EXPECT_NEAR(r.ap50, 0.5, 1e-12);
  // An image outside the evaluated list is not looked at.
  EXPECT_DOUBLE_EQ(
      evaluate({1}, truth, {det(2, 0, 0.9f, {0, 0, 10, 10}), det(1, 0, 0.8f, {0, 0, 10, 10})}).ap50,
      1.0);
}

TEST(Evaluate, KeepsTheBestDetectionsPerImageAndClass) {
  const std::vector<GroundTruth> truth = {{1, 0, {0, 0, 10, 10}, false}};
  EvalParams p;
  p.max_detections_per_image = 1;
  const auto r =
      evaluate({1}, truth, {det(1, 0, 0.9f, {40, 40, 10, 10}), det(1, 0, 0.8f, {0, 0, 10, 10})}, p);
  EXPECT_DOUBLE_EQ(r.ap50, 0.0);
}

TEST(Datasets, CocoCategoryMapping) {
  EXPECT_EQ(coco91_category(0), 1);
  EXPECT_EQ(coco91_category(79), 90);
  EXPECT_EQ(contiguous_class(90), 79);
  EXPECT_EQ(contiguous_class(12), -1);  // not a detection category
  for (int c = 0; c < 80; ++c) EXPECT_EQ(contiguous_class(coco91_category(c)), c);
}

class DatasetFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kv_eval_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "images");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(DatasetFiles, ReadsMotGroundTruth) {
  write("gt.txt", "1,9,499,158,31,75,1,-4.1,-7.3,0\n2,3,10,20,30,40,0,0,0,0\n");
  auto gt = load_mot(dir_ / "gt.txt");
  ASSERT_TRUE(gt.ok()) << gt.error().message;
  ASSERT_EQ(gt->truth.size(), 2u);
  EXPECT_EQ(gt->frames, 2);
  EXPECT_EQ(gt->truth[0].image_id, 0);  // frame 1 is video frame 0
  EXPECT_EQ(gt->truth[0].box, cv::Rect2f(499, 158, 31, 75));
  EXPECT_FALSE(gt->truth[0].ignore);
  EXPECT_TRUE(gt->truth[1].ignore);
  write("bad.txt", "1,9,499,x,31,75,1\n");
  auto bad = load_mot(dir_ / "bad.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos);
}

TEST_F(DatasetFiles, ReadsCocoInstances) {
  write("images/000000000139.jpg", "x");
  write("instances.json",
        R"({"images":[{"id":139,"file_name":"000000000139.jpg","width":640,"height":426}],
            "annotations":[{"image_id":139,"category_id":90,"bbox":[1,2,3,4]},
                           {"image_id":139,"category_id":1,"bbox":[5,6,7,8],"iscrowd":1}],
            "categories":[]})");
  auto data = load_coco(dir_);
  ASSERT_TRUE(data.ok()) << data.error().message;
  ASSERT_EQ(data->images.size(), 1u);
  EXPECT_EQ(data->images[0].path, dir_ / "images" / "000000000139.jpg");
  ASSERT_EQ(data->truth.size(), 2u);
  EXPECT_EQ(data->truth[0].class_id, 79);
  EXPECT_TRUE(data->truth[1].ignore);
  write("instances.json",
        R"({"images":[],"annotations":[{"image_id":1,"category_id":12,"bbox":[1,2,3,4]}]})");
  auto bad = load_coco(dir_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("category id 12"), std::string::npos);
}

}  // namespace
}  // namespace kv::eval
