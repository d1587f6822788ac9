// DetectionStore on SQLite: one file, WAL with full sync (a transaction is on disk when its
// COMMIT returns), INSERT OR IGNORE for idempotent writes.
#include <sqlite3.h>

#include <fmt/format.h>

#include "store/backends.h"

namespace kv::store {
namespace {

struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

Error db_error(sqlite3* db, const std::string& what) {
  return make_error(ErrorCode::kIo, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}

constexpr const char* kSqliteSchema = R"sql(
CREATE TABLE IF NOT EXISTS frames(
  camera TEXT NOT NULL, session_us INTEGER NOT NULL, seq INTEGER NOT NULL,
  capture_us INTEGER NOT NULL, width INTEGER, height INTEGER, model TEXT,
  topic TEXT, partition INTEGER, "offset" INTEGER, detections INTEGER,
  PRIMARY KEY (camera, session_us, seq));
CREATE TABLE IF NOT EXISTS detections(
  camera TEXT NOT NULL, session_us INTEGER NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
  capture_us INTEGER NOT NULL, class_id INTEGER, label TEXT, score REAL,
  x REAL, y REAL, w REAL, h REAL, track INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (camera, session_us, seq, idx));
CREATE INDEX IF NOT EXISTS detections_by_time ON detections(camera, capture_us);
CREATE INDEX IF NOT EXISTS detections_by_label ON detections(label, capture_us);
)sql";
// Databases made before track IDs (detection record version 1) get the column; 0: untracked.
constexpr const char* kSqliteTrackColumn =
    "ALTER TABLE detections ADD COLUMN track INTEGER NOT NULL DEFAULT 0;";
constexpr const char* kSqliteTrackIndex =
    "CREATE INDEX IF NOT EXISTS detections_by_track ON detections(camera, track, capture_us);";

std::string text_column(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

class SqliteStore final : public DetectionStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      Error e = make_error(ErrorCode::kIo, err != nullptr ? err : "sqlite error");
      sqlite3_free(err);
      return e;
    }
    return ok_status();
  }

  Result<int64_t> write(const std::vector<wire::DetectionRecord>& records) override {
    if (Status s = exec("BEGIN IMMEDIATE;"); !s) return s.error();
    auto written = insert_all(records);
    if (!written) {
      (void)exec("ROLLBACK;");
      return written.error();
    }
    if (Status s = exec("COMMIT;"); !s) {
      (void)exec("ROLLBACK;");
      return s.error();
    }
    return written;
  }

  Result<int64_t> frame_count() override { return count("SELECT COUNT(*) FROM frames"); }
  Result<int64_t> detection_count() override { return count("SELECT COUNT(*) FROM detections"); }

 protected:
  Status select(const Query& q, int64_t limit,
                const std::function<bool(StoredDetection&&)>& row) override {
    const SelectSql sel = select_sql(q, limit, false);
    Statement st;
    if (sqlite3_prepare_v2(db_, sel.sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK)
      return db_error(db_, "preparing the query");
    for (size_t i = 0; i < sel.params.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      if (const auto* s = std::get_if<std::string>(&sel.params[i])) {
        sqlite3_bind_text(st.s, n, s->c_str(), -1, SQLITE_TRANSIENT);
      } else if (const auto* v = std::get_if<int64_t>(&sel.params[i])) {
        sqlite3_bind_int64(st.s, n, *v);
      } else {
        sqlite3_bind_double(st.s, n, std::get<double>(sel.params[i]));
      }
    }
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
      StoredDetection d;
      d.frame.camera = text_column(st.s, 0);
      d.frame.session_us = sqlite3_column_int64(st.s, 1);
      d.frame.seq = sqlite3_column_int64(st.s, 2);
      d.index = sqlite3_column_int(st.s, 3);
      d.frame.capture_us = sqlite3_column_int64(st.s, 4);
      d.object.class_id = sqlite3_column_int(st.s, 5);
      d.object.label = text_column(st.s, 6);
      d.object.score = static_cast<float>(sqlite3_column_double(st.s, 7));
      d.object.box = {static_cast<float>(sqlite3_column_double(st.s, 8)),
                      static_cast<float>(sqlite3_column_double(st.s, 9)),
                      static_cast<float>(sqlite3_column_double(st.s, 10)),
                      static_cast<float>(sqlite3_column_double(st.s, 11))};
      d.frame.width = sqlite3_column_int(st.s, 12);
      d.frame.height = sqlite3_column_int(st.s, 13);
      d.source.topic = text_column(st.s, 14);
      d.source.partition = sqlite3_column_int(st.s, 15);
      d.source.offset = sqlite3_column_int64(st.s, 16);
      d.object.track_id = sqlite3_column_int64(st.s, 17);
      if (!row(std::move(d))) return ok_status();
    }
    if (rc != SQLITE_DONE) return db_error(db_, "running the query");
    return ok_status();
  }

 private:
  Result<int64_t> insert_all(const std::vector<wire::DetectionRecord>& records) {
    Statement frame;
    Statement det;
    if (sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO frames VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1,
                           &frame.s, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_,
                           "INSERT OR IGNORE INTO detections(camera, session_us, seq, idx, "
                           "capture_us, class_id, label, score, x, y, w, h, track) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &det.s, nullptr) != SQLITE_OK) {
      return db_error(db_, "preparing inserts");
    }
    int64_t added = 0;
    for (const wire::DetectionRecord& r : records) {
      const wire::FrameMeta& f = r.frame;
      sqlite3_reset(frame.s);
      sqlite3_bind_text(frame.s, 1, f.camera.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(frame.s, 2, f.session_us);
      sqlite3_bind_int64(frame.s, 3, f.seq);
      sqlite3_bind_int64(frame.s, 4, f.capture_us);
      sqlite3_bind_int(frame.s, 5, f.width);
      sqlite3_bind_int(frame.s, 6, f.height);
      sqlite3_bind_text(frame.s, 7, r.model.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(frame.s, 8, r.source.topic.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(frame.s, 9, r.source.partition);
      sqlite3_bind_int64(frame.s, 10, r.source.offset);
      sqlite3_bind_int64(frame.s, 11, static_cast<int64_t>(r.detections.size()));
      if (sqlite3_step(frame.s) != SQLITE_DONE) return db_error(db_, "inserting a frame");
      added += sqlite3_changes(db_);
      for (size_t i = 0; i < r.detections.size(); ++i) {
        const wire::DetectedObject& d = r.detections[i];
        sqlite3_reset(det.s);
        sqlite3_bind_text(det.s, 1, f.camera.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(det.s, 2, f.session_us);
        sqlite3_bind_int64(det.s, 3, f.seq);
        sqlite3_bind_int(det.s, 4, static_cast<int>(i));
        sqlite3_bind_int64(det.s, 5, f.capture_us);
        sqlite3_bind_int(det.s, 6, d.class_id);
        sqlite3_bind_text(det.s, 7, d.label.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(det.s, 8, d.score);
        sqlite3_bind_double(det.s, 9, d.box.x);
        sqlite3_bind_double(det.s, 10, d.box.y);
        sqlite3_bind_double(det.s, 11, d.box.w);
        sqlite3_bind_double(det.s, 12, d.box.h);
        sqlite3_bind_int64(det.s, 13, d.track_id);
        if (sqlite3_step(det.s) != SQLITE_DONE) return db_error(db_, "inserting a detection");
      }
    }
    return added;
  }

  Result<int64_t> count(const char* sql) {
    Statement st;
    if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK ||
        sqlite3_step(st.s) != SQLITE_ROW)
      return db_error(db_, "counting");
    return sqlite3_column_int64(st.s, 0);
  }

  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<DetectionStore>> open_sqlite(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open(path.c_str(), &raw);
  auto s = std::make_unique<SqliteStore>(raw);
  if (rc != SQLITE_OK) return db_error(raw, fmt::format("cannot open database '{}'", path));
  sqlite3_busy_timeout(raw, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;", kSqliteSchema}) {
    if (Status st = s->exec(sql); !st) {
      return make_error(st.error().code,
                        fmt::format("database '{}': {}", path, st.error().message));
    }
  }
  if (Status st = s->exec(kSqliteTrackColumn);
      !st && st.error().message.find("duplicate column") == std::string::npos) {
    return make_error(st.error().code,
                      fmt::format("database '{}': adding track IDs: {}", path, st.error().message));
  }
  if (Status st = s->exec(kSqliteTrackIndex); !st) {
    return make_error(st.error().code, fmt::format("database '{}': {}", path, st.error().message));
  }
  return std::unique_ptr<DetectionStore>(std::move(s));
}

}  // namespace kv::store
