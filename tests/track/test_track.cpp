// The tracking parts on hand-made cases: the assignment, the Kalman filter, the ByteTrack-style
// tracker against the plain IoU tracker, and the MOT metrics on cases computed by hand.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "detect/nms.h"
#include "track/assignment.h"
#include "track/byte_tracker.h"
#include "track/iou_tracker.h"
#include "track/kalman.h"
#include "track/mot_metrics.h"

namespace kv::track {
namespace {

using Pairs = std::vector<std::pair<int, int>>;

TEST(Assignment, FindsTheMinimumCost) {
  // Taking the smallest entry first, (0,0) = 1, leaves 3 + 3 = 7 in all; the optimum is
  // 2 + 2 + 2 = 6.
  const std::vector<std::vector<double>> cost{{1, 2, 9}, {2, 9, 3}, {9, 3, 2}};
  EXPECT_EQ(min_cost_assignment({{1, 2}, {2, 9}}, 100), (Pairs{{0, 1}, {1, 0}}));
  EXPECT_EQ(min_cost_assignment(cost, 100), (Pairs{{0, 1}, {1, 0}, {2, 2}}));
}

TEST(Assignment, RectangularAndCappedMatrices) {
  EXPECT_EQ(min_cost_assignment({{5, 1, 7}, {1, 8, 9}}, 100), (Pairs{{0, 1}, {1, 0}}));
  EXPECT_EQ(min_cost_assignment({{5, 1}, {1, 8}, {0.5, 0.2}}, 100), (Pairs{{1, 0}, {2, 1}}));
  EXPECT_EQ(min_cost_assignment({{5, 1}, {1, 8}}, 0.9), Pairs{});  // both pairs cost 1 > 0.9
  EXPECT_TRUE(min_cost_assignment({}, 1).empty());
}

TEST(Kalman, FollowsConstantVelocity) {
  BoxKalman k(cv::Rect2f(100, 100, 20, 40));
  for (int t = 1; t <= 15; ++t) {
    k.predict();
    k.update({100.f + 5 * t, 100.f + 2 * t, 20, 40});
  }
  k.predict();  // where frame 16 should be
  const cv::Rect2f b = k.box();
  EXPECT_NEAR(b.x, 180, 1.0);
  EXPECT_NEAR(b.y, 132, 1.0);
  EXPECT_NEAR(b.width, 20, 0.5);
  EXPECT_NEAR(b.height, 40, 0.5);
}

detect::Detection det(float x, float y, float score, int cls = 0) {
  return {cls, score, {x, y, 30, 60}};
}

TEST(ByteTracker, KeepsIdsOfMovingObjects) {
  ByteTracker tracker;
  std::set<int64_t> seen;
  for (int t = 0; t < 20; ++t) {
    auto tracks = tracker.update({det(10.f + 4 * t, 50, 0.9f), det(300.f - 4 * t, 60, 0.8f)});
    ASSERT_EQ(tracks.size(), 2u) << "frame " << t;
    for (const Track& tr : tracks) seen.insert(tr.id);
  }
  EXPECT_EQ(seen.size(), 2u);
}

// Three objects, one of them missing for frames 12-15 and one that shows up at frame 8.
std::vector<detect::Detection> scripted_frame(int t) {
  std::vector<detect::Detection> out{det(10.f + 5 * t, 50, 0.9f), det(400.f - 3 * t, 80, 0.85f)};
  if (t < 12 || t > 15) out.push_back(det(200, 10.f + 4 * t, 0.85f));
  if (t >= 8) out.push_back(det(600.f - 2 * t, 300, 0.8f, 2));
  return out;
}

TEST(ByteTracker, ASnapshotContinuesExactly) {
  ByteTracker original;
  for (int t = 0; t < 14; ++t) original.update(scripted_frame(t));
  const TrackerSnapshot snap = original.snapshot();
  ByteTracker restored(ByteTrackParams{}, snap);
  EXPECT_EQ(restored.frames(), 14);
  int compared = 0;
  for (int t = 14; t < 40; ++t) {
    const auto a = original.update(scripted_frame(t));
    const auto b = restored.update(scripted_frame(t));
    ASSERT_EQ(a.size(), b.size()) << "frame " << t;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id);
      EXPECT_EQ(a[i].detection, b[i].detection);
      EXPECT_EQ(a[i].box, b[i].box);  // bit for bit: the filter state is saved whole
      ++compared;
    }
  }
  EXPECT_GT(compared, 80);
  // A fresh tracker given the same frames numbers its tracks from 1 again: the IDs above
  // came from the snapshot, not from chance.
  ByteTracker fresh;
  EXPECT_EQ(fresh.update(scripted_frame(14)).front().id, 1);
}

TEST(ByteTracker, TracksNameTheirDetection) {
  ByteTracker tracker;
  for (int t = 0; t < 10; ++t) {
    const auto dets = scripted_frame(t);
    for (const Track& tr : tracker.update(dets)) {
      ASSERT_GE(tr.detection, 0);
      const cv::Rect2f& b = dets[static_cast<size_t>(tr.detection)].box;
      EXPECT_GT(detect::iou(b, tr.box), 0.8f) << "frame " << t << " track " << tr.id;
    }
  }
}

TEST(ByteTracker, LabellingASeenFrameChangesNothing) {
  ByteTracker tracker;
  std::vector<Track> at9;
  for (int t = 0; t < 10; ++t) at9 = tracker.update(scripted_frame(t));
  const TrackerSnapshot before = tracker.snapshot();
  // Frame 9 again (a redelivery): the same IDs, and the tracker is as it was.
  const auto labels = tracker.label(scripted_frame(9));
  ASSERT_EQ(labels.size(), at9.size());
  std::map<int, int64_t> by_det;
  for (const Track& t : at9) by_det[t.detection] = t.id;
  for (const Track& t : labels) EXPECT_EQ(by_det[t.detection], t.id);
  const TrackerSnapshot after = tracker.snapshot();
  EXPECT_EQ(after.frame, before.frame);
  ASSERT_EQ(after.slots.size(), before.slots.size());
  for (size_t i = 0; i < after.slots.size(); ++i)
    EXPECT_EQ(after.slots[i].filter.x, before.slots[i].filter.x);
}

TEST(ByteTracker, LowScoreDetectionsCarryATrackThroughOcclusion) {
  ByteTracker tracker;
  IouTracker baseline;
  std::set<int64_t> ids, baseline_ids;
  int reported_while_occluded = 0;
  for (int t = 0; t < 15; ++t) {
    const float score = t >= 5 && t < 9 ? 0.3f : 0.9f;  // partly hidden for 4 frames
    const std::vector<detect::Detection> dets{det(50.f + 3 * t, 80, score)};
    for (const Track& tr : tracker.update(dets)) {
      ids.insert(tr.id);
      if (score < 0.5f) ++reported_while_occluded;
    }
    for (const Track& tr : baseline.update(dets)) baseline_ids.insert(tr.id);
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(reported_while_occluded, 4);
  EXPECT_EQ(baseline_ids.size(), 2u) << "the IoU tracker drops it and starts again";
}

TEST(ByteTracker, ALostTrackIsFoundAgainWhereItsMotionLeads) {
  ByteTracker tracker;
  int64_t id = 0;
  for (int t = 0; t < 8; ++t) {
    auto tracks = tracker.update({det(20.f + 6 * t, 40, 0.9f)});
    ASSERT_EQ(tracks.size(), 1u);
    id = tracks[0].id;
  }
  for (int t = 8; t < 14; ++t) EXPECT_TRUE(tracker.update({}).empty());  // hidden entirely
  auto back = tracker.update({det(20.f + 6 * 14, 40, 0.9f)});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, id);
}

TEST(ByteTracker, OneStrayDetectionStartsNoTrackAndClassesNeverMix) {
  ByteTracker tracker;
  tracker.update({det(10, 10, 0.9f)});
  EXPECT_EQ(tracker.update({det(10, 10, 0.9f), det(400, 300, 0.9f)}).size(), 1u)
      << "a detection seen once is not a track yet";
  // The same place, another class, twice: a new track, not the person's.
  EXPECT_TRUE(tracker.update({det(10, 10, 0.9f, 2)}).empty());
  auto tracks = tracker.update({det(10, 10, 0.9f, 2)});
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].class_id, 2);
  EXPECT_NE(tracks[0].id, 1) << "a car must not continue a person";
}

std::vector<MotBox> boxes(std::initializer_list<std::pair<int64_t, float>> id_x) {
  std::vector<MotBox> out;
  for (auto [id, x] : id_x) out.push_back({id, {x, 0, 10, 10}});
  return out;
}

TEST(MotMetrics, PerfectTracksScoreOne) {
  std::vector<MotFrame> f;
  for (int t = 0; t < 3; ++t) f.push_back({boxes({{1, 0}, {2, 50}}), boxes({{7, 0}, {8, 50}})});
  const MotScores s = score_mot(f);
  EXPECT_EQ(s.gt, 6);
  EXPECT_DOUBLE_EQ(s.mota, 1.0);
  EXPECT_DOUBLE_EQ(s.idf1, 1.0);
  EXPECT_EQ(s.id_switches, 0);
}

TEST(MotMetrics, AnIdSwitchCostsMotaOnceAndIdf1Half) {
  // One object over 4 frames, tracked as A for 2 frames, then as B.
  std::vector<MotFrame> f{{boxes({{1, 0}}), boxes({{10, 0}})},
                          {boxes({{1, 0}}), boxes({{10, 0}})},
                          {boxes({{1, 0}}), boxes({{11, 0}})},
                          {boxes({{1, 0}}), boxes({{11, 0}})}};
  const MotScores s = score_mot(f);
  EXPECT_EQ(s.id_switches, 1);
  EXPECT_DOUBLE_EQ(s.mota, 0.75);  // 1 - 1/4
  EXPECT_EQ(s.idtp, 2);
  EXPECT_DOUBLE_EQ(s.idf1, 0.5);  // 2 * 2 / (4 + 4)
}

TEST(MotMetrics, MissesFalsePositivesAndIgnoredGroundTruth) {
  MotFrame a{boxes({{1, 0}}), boxes({{5, 0}})};
  MotFrame b{boxes({{1, 0}}), boxes({{6, 200}})};  // a miss and a false positive
  MotFrame c{boxes({{1, 0}, {2, 100}}), boxes({{5, 0}, {9, 100}})};
  c.gt[1].ignore = true;  // hypothesis 9 covers a don't-care box: neither FP nor match
  const MotScores s = score_mot({a, b, c});
  EXPECT_EQ(s.gt, 3);
  EXPECT_EQ(s.hyp, 3);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.false_positives, 1);
  EXPECT_DOUBLE_EQ(s.mota, 1.0 - 2.0 / 3);
  EXPECT_EQ(s.idtp, 2);  // gt 1 with hypothesis 5, frames a and c
  EXPECT_DOUBLE_EQ(s.idf1, 4.0 / 6);
}

TEST(MotMetrics, ACorrespondenceIsKeptWhileItStillOverlaps) {
  // Frame 2: hypothesis 7 (last frame's match) still overlaps gt 1 at IoU 0.67, hypothesis 8
  // overlaps it better; CLEAR-MOT keeps 7, so no switch, and 8 is a false positive.
  std::vector<MotFrame> f{{boxes({{1, 0}}), boxes({{7, 0}})},
                          {boxes({{1, 0}}), {{7, {2, 0, 10, 10}}, {8, {0.5f, 0, 10, 10}}}}};
  const MotScores s = score_mot(f);
  EXPECT_EQ(s.id_switches, 0);
  EXPECT_EQ(s.false_positives, 1);
  EXPECT_EQ(s.matches, 2);
}

}  // namespace
}  // namespace kv::track
