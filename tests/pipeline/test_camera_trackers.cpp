// The detect stage's per-camera trackers: track IDs on the records, the state record that
// carries a camera's tracks to another member, redeliveries and new ingest sessions.
#include <gtest/gtest.h>

#include <set>

#include "pipeline/camera_trackers.h"

namespace kv::pipeline {
namespace {

wire::DetectedObject person(float x, float y, float score = 0.9f) {
  return {0, "person", score, {x, y, 30, 60}};
}

// Frame `seq` of `camera`: two people walking, a third from frame 6 on.
wire::DetectionRecord frame(const std::string& camera, int64_t seq, int64_t session = 100,
                            int32_t partition = 1) {
  wire::DetectionRecord r;
  r.frame.camera = camera;
  r.frame.seq = seq;
  r.frame.session_us = session;
  r.source = {"raw_video_frames", partition, 1000 + seq};
  const float t = static_cast<float>(seq);
  r.detections = {person(10 + 6 * t, 50), person(500 - 4 * t, 120, 0.8f)};
  if (seq >= 6) r.detections.push_back(person(250, 300 - 3 * t, 0.85f));
  return r;
}

std::vector<int64_t> ids(const wire::DetectionRecord& r) {
  std::vector<int64_t> out;
  for (const auto& d : r.detections) out.push_back(d.track_id);
  return out;
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(CameraTrackers, GivesEachObjectOneIdAcrossFrames) {
  CameraTrackers trackers;
  std::set<int64_t> seen;
  for (int64_t k = 0; k < 20; ++k) {
    wire::DetectionRecord r = frame("cam1", k);
    trackers.apply(r);
    for (int64_t id : ids(r)) {
      if (k >= 8) EXPECT_GT(id, 0) << "frame " << k;  // the third is confirmed by then
      if (id > 0) seen.insert(id);
    }
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST(CameraTrackers, AnotherMemberContinuesFromTheStateRecord) {
  CameraTrackers first;
  std::string state;
  for (int64_t k = 0; k < 12; ++k) {
    wire::DetectionRecord r = frame("cam1", k);
    state = first.apply(r);
  }
  CameraTrackers next;  // the member that takes the partition over
  ASSERT_TRUE(next.restore(bytes(state)).ok());
  for (int64_t k = 12; k < 30; ++k) {
    wire::DetectionRecord a = frame("cam1", k);
    wire::DetectionRecord b = frame("cam1", k);
    first.apply(a);
    next.apply(b);
    EXPECT_EQ(ids(a), ids(b)) << "frame " << k;
  }
  // Without the state, the new member's IDs start again from 1.
  CameraTrackers fresh;
  wire::DetectionRecord r = frame("cam1", 30);
  fresh.apply(r);
  EXPECT_EQ(ids(r), (std::vector<int64_t>{1, 2, 3}));
}

TEST(CameraTrackers, ARedeliveredFrameKeepsItsIdsAndChangesNoState) {
  CameraTrackers trackers;
  std::vector<int64_t> at10;
  std::string state;
  for (int64_t k = 0; k <= 10; ++k) {
    wire::DetectionRecord r = frame("cam1", k);
    state = trackers.apply(r);
    if (k == 10) at10 = ids(r);
  }
  wire::DetectionRecord again = frame("cam1", 10);
  EXPECT_EQ(trackers.apply(again), state);
  EXPECT_EQ(ids(again), at10);
}

TEST(CameraTrackers, ANewIngestSessionStartsNewTracksWithNewIds) {
  CameraTrackers trackers;
  std::set<int64_t> first;
  for (int64_t k = 0; k < 8; ++k) {
    wire::DetectionRecord r = frame("cam1", k, 100);
    trackers.apply(r);
    for (int64_t id : ids(r)) first.insert(id);
  }
  wire::DetectionRecord r = frame("cam1", 0, 200);  // seq 0 again, a new session
  trackers.apply(r);
  for (int64_t id : ids(r)) {
    EXPECT_GT(id, 0);
    EXPECT_EQ(first.count(id), 0u) << "ID " << id << " used twice";
  }
}

TEST(CameraTrackers, CamerasAreSeparateAndForgottenByPartition) {
  CameraTrackers trackers;
  wire::DetectionRecord a = frame("a", 0, 100, 1);
  wire::DetectionRecord b = frame("b", 0, 100, 2);
  trackers.apply(a);
  trackers.apply(b);
  EXPECT_EQ(ids(a), ids(b));  // each camera counts from 1
  EXPECT_EQ(trackers.cameras(), 2u);
  trackers.forget({2});
  EXPECT_EQ(trackers.cameras(), 1u);
  trackers.clear();
  EXPECT_EQ(trackers.cameras(), 0u);
}

TEST(TrackStateRecord, RoundTripsAndRejectsDamage) {
  CameraTrackers trackers;
  std::string state;
  for (int64_t k = 0; k < 9; ++k) {
    wire::DetectionRecord r = frame("lobby", k, 100, 3);
    state = trackers.apply(r);
  }
  auto s = decode_track_state(bytes(state));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->camera, "lobby");
  EXPECT_EQ(s->partition, 3);
  EXPECT_EQ(s->seq, 8);
  EXPECT_EQ(s->session_us, 100);
  EXPECT_EQ(s->tracker.slots.size(), 3u);
  EXPECT_EQ(encode_track_state(*s), state);

  EXPECT_FALSE(decode_track_state(bytes(state.substr(0, state.size() - 1))).ok());
  EXPECT_FALSE(decode_track_state(bytes(state + "x")).ok());
  EXPECT_FALSE(decode_track_state(bytes("not a state")).ok());
  std::string version = state;
  version[4] = 9;
  EXPECT_FALSE(decode_track_state(bytes(version)).ok());
  // A bad record changes nothing.
  EXPECT_FALSE(trackers.restore(bytes("KVTS")).ok());
  EXPECT_EQ(trackers.cameras(), 1u);
}

}  // namespace
}  // namespace kv::pipeline
