// Two result streams compared: hand-computed frames.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vlog/result_diff.h"

namespace kv::vlog {
namespace {

wire::DetectionRecord result(const std::string& camera, int64_t seq,
                             std::vector<wire::DetectedObject> objects,
                             const std::string& model = "m") {
  wire::DetectionRecord r;
  r.frame.camera = camera;
  r.frame.session_us = 1;
  r.frame.seq = seq;
  r.frame.capture_us = 1'000'000 * (seq + 1);
  r.model = model;
  r.detections = std::move(objects);
  return r;
}

wire::DetectedObject obj(const std::string& label, float score, float x, float y, float w = 10,
                         float h = 10) {
  return {0, label, score, {x, y, w, h}};
}

TEST(DiffFrame, MatchesByIouWithinALabelThenAcross) {
  DiffReport report;
  // A: two people and a car. B: the first person shifted by 1 px (IoU 0.82), the second gone,
  // the car seen as a truck at the same place, and a new dog.
  const auto a = result(
      "c", 0, {obj("person", 0.9f, 0, 0), obj("person", 0.8f, 50, 50), obj("car", 0.7f, 100, 100)});
  const auto b =
      result("c", 0,
             {obj("person", 0.6f, 1, 0), obj("truck", 0.5f, 100, 100), obj("dog", 0.4f, 200, 200)});
  const FrameChange c = diff_frame(a, b, DiffOptions{}, report);
  EXPECT_EQ(c.in_a, 3);
  EXPECT_EQ(c.in_b, 3);
  EXPECT_EQ(c.lost, 1);        // the second person
  EXPECT_EQ(c.added, 1);       // the dog
  EXPECT_EQ(c.relabelled, 1);  // car -> truck
  EXPECT_EQ(report.total.matched, 1);
  EXPECT_NEAR(report.total.score_shift_sum, -0.3, 1e-6);
  EXPECT_NEAR(report.iou_sum, 90.0 / 110.0, 1e-6);
  EXPECT_EQ(report.classes["person"].lost, 1);
  EXPECT_EQ(report.classes["car"].relabelled, 1);
  EXPECT_EQ(report.classes["dog"].added, 1);
  EXPECT_EQ(report.classes["truck"].in_b, 1);
}

TEST(DiffFrame, BelowTheIouThresholdIsLostAndAdded) {
  DiffReport report;
  // 5 px shift of a 10 px box: IoU 50/150 = 0.33.
  const FrameChange c =
      diff_frame(result("c", 0, {obj("person", 0.9f, 0, 0)}),
                 result("c", 0, {obj("person", 0.9f, 5, 0)}), DiffOptions{}, report);
  EXPECT_EQ(c.lost, 1);
  EXPECT_EQ(c.added, 1);
  DiffOptions loose;
  loose.iou = 0.3f;
  DiffReport r2;
  EXPECT_EQ(diff_frame(result("c", 0, {obj("person", 0.9f, 0, 0)}),
                       result("c", 0, {obj("person", 0.9f, 5, 0)}), loose, r2)
                .changes(),
            0);
}

TEST(DiffFrame, GreedyPairsTheBestOverlapFirst) {
  DiffReport report;
  // One A box between two B boxes: it pairs with the closer one, the other is added.
  const FrameChange c =
      diff_frame(result("c", 0, {obj("person", 0.9f, 0, 0)}),
                 result("c", 0, {obj("person", 0.5f, 2, 0), obj("person", 0.7f, 1, 0)}),
                 DiffOptions{}, report);
  EXPECT_EQ(c.added, 1);
  EXPECT_EQ(report.total.matched, 1);
  EXPECT_NEAR(report.total.score_shift_sum, 0.7 - 0.9, 1e-6);
}

TEST(ResultDiff, PairsFramesCountsTheUnpairedAndRanksChanges) {
  DiffOptions options;
  options.top_frames = 2;
  ResultDiff diff(options);
  diff.add_a(result("c", 0, {obj("person", 0.9f, 0, 0)}, "yolox"));
  diff.add_a(result("c", 1, {obj("person", 0.9f, 0, 0)}, "yolox"));
  diff.add_a(result("c", 2, {}, "yolox"));
  diff.add_a(result("d", 0, {}, "yolox"));  // no result in B
  diff.add_b(result("c", 0, {obj("person", 0.9f, 0, 0)}, "fd"));
  diff.add_b(result("c", 1, {}, "fd"));                                                  // 1 change
  diff.add_b(result("c", 2, {obj("cat", 0.5f, 0, 0), obj("cat", 0.5f, 50, 50)}, "fd"));  // 2
  diff.add_b(result("c", 2, {obj("cat", 0.5f, 0, 0), obj("cat", 0.5f, 50, 50)}, "fd"));  // again
  diff.add_b(result("e", 5, {}, "fd"));  // no result in A
  const DiffReport r = diff.finish("A", "B");
  EXPECT_EQ(r.frames_compared, 3);
  EXPECT_EQ(r.frames_changed, 2);
  EXPECT_EQ(r.frames_only_a, 1);
  EXPECT_EQ(r.frames_only_b, 1);
  EXPECT_EQ(r.model_a, "yolox");
  EXPECT_EQ(r.model_b, "fd");
  ASSERT_EQ(r.most_changed.size(), 2u);
  EXPECT_EQ(r.most_changed[0].seq, 2);  // the most changes first
  EXPECT_EQ(r.most_changed[0].added, 2);
  EXPECT_EQ(r.most_changed[1].seq, 1);
  EXPECT_EQ(r.total.in_b, 3) << "a redelivered result counts once";
  const nlohmann::json j = diff_json(r);
  EXPECT_EQ(j["frames"]["changed"], 2);
  EXPECT_EQ(j["classes"]["cat"]["added"], 2);
  EXPECT_EQ(j["most_changed"][0]["capture_ms"], 3000);
  const std::string text = format_diff(r);
  EXPECT_NE(text.find("3 compared, 2 changed"), std::string::npos) << text;
}

TEST(ResultDiff, MinScoreLeavesWeakObjectsOutOfBothSides) {
  DiffOptions options;
  options.min_score = 0.5f;
  ResultDiff diff(options);
  diff.add_a(result("c", 0, {obj("person", 0.9f, 0, 0)}));
  diff.add_b(result("c", 0, {obj("person", 0.9f, 0, 0), obj("kite", 0.2f, 90, 90)}));
  const DiffReport r = diff.finish("A", "B");
  EXPECT_EQ(r.frames_changed, 0);
  EXPECT_EQ(r.total.in_b, 1);
}

}  // namespace
}  // namespace kv::vlog
