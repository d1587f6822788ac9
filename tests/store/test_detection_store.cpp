#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <libpq-fe.h>
#include <sqlite3.h>

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

// Two people walking right, tracks 1 and 2, and a car without a track ID, in frames 0..9.
wire::DetectionRecord tracked(int64_t seq) {
  wire::DetectionRecord r = record("lobby", seq, 1'000'000 + seq * 100'000);
  r.detections.clear();
  const float x = static_cast<float>(seq) * 10;
  r.detections.push_back({0, "person", 0.9F, {100 + x, 400, 50, 150}, 1});
  if (seq >= 3) r.detections.push_back({0, "person", 0.8F, {300 + x, 100, 40, 100}, 2});
  r.detections.push_back({2, "car", 0.8F, {600, 300, 100, 80}, 0});
  return r;
}

TEST_P(DetectionStoreTest, TracksAreQueriedAndSummarised) {
  std::vector<wire::DetectionRecord> batch;
  for (int64_t s = 0; s < 10; ++s) batch.push_back(tracked(s));
  ASSERT_TRUE(db_->write(batch).ok());

  Query one;
  one.camera = "lobby";
  one.track = 2;
  auto rows = db_->query(one);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 7U);  // frames 3..9
  for (const StoredDetection& d : *rows) EXPECT_EQ(d.object.track_id, 2);
  EXPECT_EQ(rows->front().frame.seq, 3);

  auto tracks = db_->tracks(Query{}, 4);
  ASSERT_TRUE(tracks.ok()) << tracks.error().message;
  ASSERT_EQ(tracks->size(), 2U);  // the untracked car is not a track
  const TrackSummary& first = (*tracks)[0];
  EXPECT_EQ(first.track, 1);
  EXPECT_EQ(first.label, "person");
  EXPECT_EQ(first.detections, 10);
  EXPECT_EQ(first.first_us, 1'000'000);
  EXPECT_EQ(first.last_us, 1'900'000);
  EXPECT_EQ(first.first.source.offset, 40);  // frame 0's record
  ASSERT_EQ(first.path.size(), 4U);          // 10 points thinned to 4: frames 0, 3, 6, 9
  EXPECT_DOUBLE_EQ(first.path.front().x, 125);
  EXPECT_DOUBLE_EQ(first.path.front().y, 550);
  EXPECT_DOUBLE_EQ(first.path[1].x, 155);
  EXPECT_DOUBLE_EQ(first.path.back().x, 215);
  EXPECT_EQ((*tracks)[1].track, 2);
  EXPECT_EQ((*tracks)[1].first_us, 1'300'000);

  // The filters apply to the detections summarised: from frame 5 on, in the upper half.
  Query later;
  later.from_us = 1'500'000;
  later.zone = {{0, 0}, {800, 0}, {800, 300}, {0, 300}};
  auto upper = db_->tracks(later);
  ASSERT_TRUE(upper.ok());
  ASSERT_EQ(upper->size(), 1U);
  EXPECT_EQ((*upper)[0].track, 2);
  EXPECT_EQ((*upper)[0].detections, 5);
}

// A database kvision store made before track IDs gets the column when it is opened again.
TEST(DetectionStoreOpen, AnOldDatabaseGetsTrackIds) {
  const fs::path path =
      fs::temp_directory_path() / ("kv_store_old_" + std::to_string(::getpid()) + ".db");
  fs::remove(path);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "CREATE TABLE frames(camera TEXT NOT NULL, session_us INTEGER NOT NULL, "
                         "seq INTEGER NOT NULL, capture_us INTEGER NOT NULL, width INTEGER, "
                         "height INTEGER, model TEXT, topic TEXT, partition INTEGER, "
                         "\"offset\" INTEGER, detections INTEGER, "
                         "PRIMARY KEY (camera, session_us, seq));"
                         "CREATE TABLE detections(camera TEXT NOT NULL, session_us INTEGER NOT "
                         "NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL, capture_us INTEGER "
                         "NOT NULL, class_id INTEGER, label TEXT, score REAL, x REAL, y REAL, "
                         "w REAL, h REAL, PRIMARY KEY (camera, session_us, seq, idx));"
                         "INSERT INTO frames VALUES('old',1,0,5,800,600,'m','t',0,0,1);"
                         "INSERT INTO detections VALUES('old',1,0,0,5,0,'person',0.9,1,2,3,4);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  for (int reopen = 0; reopen < 2; ++reopen) {  // the second time the column is there already
    auto db = DetectionStore::open(path.string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE((*db)->write({tracked(0)}).ok());
    Query q;
    q.camera = "old";
    auto old_rows = (*db)->query(q);
    ASSERT_TRUE(old_rows.ok()) << old_rows.error().message;
    ASSERT_EQ(old_rows->size(), 1U);
    EXPECT_EQ((*old_rows)[0].object.track_id, 0);
    q.camera = "lobby";
    q.track = 1;
    EXPECT_EQ((*db)->query(q)->size(), 1U);
  }
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(path.string() + ext);
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
