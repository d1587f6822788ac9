#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "store/detection_store.h"

namespace kv::store {
namespace {
namespace fs = std::filesystem;

wire::DetectionRecord record(const std::string& camera, int64_t seq, int64_t capture_us) {
  wire::DetectionRecord r;
  r.frame.camera = camera;
  r.frame.session_us = 100;
  r.frame.seq = seq;
  r.frame.capture_us = capture_us;
  r.frame.width = 800;
  r.frame.height = 600;
  r.source = {"raw_video_frames", 2, 40 + seq};
  r.model = "yolox_nano";
  r.detections.push_back({0, "person", 0.9F, {100, 400, 50, 150}});  // foot (125, 550): bottom
  r.detections.push_back({0, "person", 0.3F, {600, 50, 40, 100}});   // foot (620, 150): top
  r.detections.push_back({2, "car", 0.8F, {300, 300, 100, 80}});
  return r;
}

class DetectionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("kv_store_" + std::to_string(::getpid()) + ".db");
    fs::remove(path_);
    auto db = DetectionStore::open(path_.string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(path_.string() + ext);
  }
  fs::path path_;
  std::unique_ptr<DetectionStore> db_;
};

TEST_F(DetectionStoreTest, RedeliveredRecordsAddNothing) {
  const std::vector<wire::DetectionRecord> batch = {record("lobby", 0, 1000),
                                                    record("lobby", 1, 2000)};
  EXPECT_EQ(*db_->write(batch), 2);
  EXPECT_EQ(*db_->write(batch), 0);  // the same records again (an at-least-once redelivery)
  EXPECT_EQ(*db_->frame_count(), 2);
  EXPECT_EQ(*db_->detection_count(), 6);
  // Durable and visible to another connection.
  auto other = DetectionStore::open("sqlite:" + path_.string());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*(*other)->frame_count(), 2);
}

TEST_F(DetectionStoreTest, QueriesByCameraLabelTimeScoreAndZone) {
  ASSERT_TRUE(
      db_->write({record("lobby", 0, 1000), record("lobby", 1, 2000), record("gate", 0, 1500)})
          .ok());
  Query q;
  q.label = "person";
  q.min_score = 0.5;
  auto rows = db_->query(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3U);  // one confident person per frame
  EXPECT_EQ((*rows)[0].frame.camera, "lobby");
  EXPECT_EQ((*rows)[0].source.offset, 40);  // the frame reference
  q.camera = "lobby";
  q.from_us = 1500;
  EXPECT_EQ(db_->query(q)->size(), 1U);
  Query zone;
  zone.zone = {{0, 300}, {800, 300}, {800, 600}, {0, 600}};  // lower half, pixels
  zone.label = "person";
  EXPECT_EQ(db_->query(zone)->size(), 3U);
  zone.zone = {{0, 0}, {1, 0}, {1, 0.5}, {0, 0.5}};  // upper half, normalised
  zone.zone_normalised = true;
  auto upper = db_->query(zone);
  ASSERT_EQ(upper->size(), 3U);
  EXPECT_FLOAT_EQ((*upper)[0].object.score, 0.3F);
}

TEST(DetectionStoreOpen, RefusesWhatItCannotDo) {
  auto pg = DetectionStore::open("postgresql://localhost/kvision");
  ASSERT_FALSE(pg.ok());
  EXPECT_NE(pg.error().message.find("PostgreSQL"), std::string::npos);
  EXPECT_FALSE(DetectionStore::open("/no/such/dir/x.db").ok());
  EXPECT_TRUE(inside({{0, 0}, {10, 0}, {10, 10}, {0, 10}}, {5, 5}));
  EXPECT_FALSE(inside({{0, 0}, {10, 0}, {10, 10}, {0, 10}}, {15, 5}));
}

}  // namespace
}  // namespace kv::store
