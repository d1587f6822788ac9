#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <libpq-fe.h>

#include "store/detection_store.h"
#include "store/frame_files.h"

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

// Every test runs on SQLite, and on PostgreSQL when KV_TEST_POSTGRES_URL names a server
// (tests/integration/postgres_test.sh starts one); its tables are dropped first.
class DetectionStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      const char* url = std::getenv("KV_TEST_POSTGRES_URL");
      if (url == nullptr)
        GTEST_SKIP() << "KV_TEST_POSTGRES_URL is not set (postgres_test.sh sets it)";
      url_ = url;
      PGconn* c = PQconnectdb(url);
      ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
      PQclear(PQexec(c, "DROP TABLE IF EXISTS frames, detections"));
      PQfinish(c);
    } else {
      path_ = fs::temp_directory_path() / ("kv_store_" + std::to_string(::getpid()) + ".db");
      fs::remove(path_);
      url_ = "sqlite:" + path_.string();
    }
    auto db = DetectionStore::open(url_);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    if (!path_.empty()) {
      for (const char* ext : {"", "-wal", "-shm"}) fs::remove(path_.string() + ext);
    }
  }
  std::string url_;
  fs::path path_;
  std::unique_ptr<DetectionStore> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DetectionStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(DetectionStoreTest, RedeliveredRecordsAddNothing) {
  const std::vector<wire::DetectionRecord> batch = {record("lobby", 0, 1000),
                                                    record("lobby", 1, 2000)};
  EXPECT_EQ(*db_->write(batch), 2);
  EXPECT_EQ(*db_->write(batch), 0);  // the same records again (an at-least-once redelivery)
  EXPECT_EQ(*db_->frame_count(), 2);
  EXPECT_EQ(*db_->detection_count(), 6);
  // Durable and visible to another connection.
  auto other = DetectionStore::open(url_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*(*other)->frame_count(), 2);
}

TEST_P(DetectionStoreTest, LargeBatchesAndLimits) {
  std::vector<wire::DetectionRecord> batch;
  for (int i = 0; i < 3000; ++i) batch.push_back(record("lobby", i, 1000 + i));
  EXPECT_EQ(*db_->write(batch), 3000);  // 9000 detections: more than one statement's worth
  EXPECT_EQ(*db_->detection_count(), 9000);
  Query q;
  q.limit = 7;
  q.label = "car";
  auto rows = db_->query(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 7U);
  EXPECT_EQ((*rows)[6].frame.seq, 6);  // in capture order
  q.zone = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
  q.zone_normalised = true;
  EXPECT_EQ(db_->query(q)->size(), 7U);  // the limit holds after the zone filter too
}

TEST_P(DetectionStoreTest, QueriesByCameraLabelTimeScoreAndZone) {
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

TEST(DetectionStoreOpen, ErrorsNameWhatFailed) {
  auto pg = DetectionStore::open("postgresql://kv@127.0.0.1:1/kvision?connect_timeout=2");
  ASSERT_FALSE(pg.ok());
  EXPECT_NE(pg.error().message.find("cannot connect to PostgreSQL at 127.0.0.1:1/kvision"),
            std::string::npos)
      << pg.error().message;
  EXPECT_FALSE(DetectionStore::open("/no/such/dir/x.db").ok());
  EXPECT_TRUE(inside({{0, 0}, {10, 0}, {10, 10}, {0, 10}}, {5, 5}));
  EXPECT_FALSE(inside({{0, 0}, {10, 0}, {10, 10}, {0, 10}}, {15, 5}));
}

}  // namespace
}  // namespace kv::store

namespace kv::store {
namespace {

TEST(FrameFiles, RetentionBySizeThenAge) {
  const fs::path dir = fs::temp_directory_path() / ("kv_frames_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    auto files = FrameFiles::open(dir.string(), {0, 2500});
    ASSERT_TRUE(files.ok()) << files.error().message;
    const std::string jpeg(1000, 'x');
    for (int seq = 0; seq < 5; ++seq) ASSERT_TRUE((*files)->save("gate/1", 7, seq, jpeg).ok());
    EXPECT_EQ((*files)->enforce(), 3);  // 5000 bytes, 2500 allowed: the 3 oldest go
    EXPECT_EQ((*files)->bytes(), 2000);
    EXPECT_FALSE(fs::exists(frame_file(dir.string(), "gate/1", 7, 2)));
    EXPECT_TRUE(fs::exists(frame_file(dir.string(), "gate/1", 7, 4)));
    EXPECT_EQ(fs::path(frame_file(dir.string(), "gate/1", 7, 4)).parent_path().filename(),
              "gate_1");
    // Age the oldest kept file by two hours.
    fs::last_write_time(frame_file(dir.string(), "gate/1", 7, 3),
                        fs::file_time_type::clock::now() - std::chrono::hours(2));
  }
  auto reopened = FrameFiles::open(dir.string(), {3'600'000'000, 0});  // an hour, any size
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->files(), 2U);  // found on disk
  EXPECT_EQ((*reopened)->enforce(), 1);
  EXPECT_TRUE(fs::exists(frame_file(dir.string(), "gate/1", 7, 4)));
  EXPECT_FALSE(fs::exists(frame_file(dir.string(), "gate/1", 7, 3)));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kv::store
