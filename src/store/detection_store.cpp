#include "store/detection_store.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace kv::store {
namespace {

struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

Error db_error(sqlite3* db, const std::string& what) {
  return make_error(ErrorCode::kIo, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS frames(
  camera TEXT NOT NULL, session_us INTEGER NOT NULL, seq INTEGER NOT NULL,
  capture_us INTEGER NOT NULL, width INTEGER, height INTEGER, model TEXT,
  topic TEXT, partition INTEGER, "offset" INTEGER, detections INTEGER,
  PRIMARY KEY (camera, session_us, seq));
CREATE TABLE IF NOT EXISTS detections(
  camera TEXT NOT NULL, session_us INTEGER NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
  capture_us INTEGER NOT NULL, class_id INTEGER, label TEXT, score REAL,
  x REAL, y REAL, w REAL, h REAL,
  PRIMARY KEY (camera, session_us, seq, idx));
CREATE INDEX IF NOT EXISTS detections_by_time ON detections(camera, capture_us);
CREATE INDEX IF NOT EXISTS detections_by_label ON detections(label, capture_us);
)sql";

}  // namespace

Result<std::unique_ptr<DetectionStore>> DetectionStore::open(const std::string& url) {
  std::string path = url;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "PostgreSQL is not supported yet: use a SQLite file (--db detections.db)");
  }
  if (url.rfind("sqlite:", 0) == 0) path = url.substr(7);
  if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "--db needs a file name");
  std::unique_ptr<DetectionStore> s(new DetectionStore());
  if (sqlite3_open(path.c_str(), &s->db_) != SQLITE_OK) {
    return db_error(s->db_, fmt::format("cannot open database '{}'", path));
  }
  sqlite3_busy_timeout(s->db_, 5000);
  // WAL with full sync: a transaction is on disk when COMMIT returns.
  for (const char* pragma : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;", kSchema}) {
    if (Status st = s->exec(pragma); !st) {
      return make_error(st.error().code,
                        fmt::format("database '{}': {}", path, st.error().message));
    }
  }
  return s;
}

DetectionStore::~DetectionStore() {
  sqlite3_close(db_);
}

Status DetectionStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Error e = make_error(ErrorCode::kIo, err != nullptr ? err : "sqlite error");
    sqlite3_free(err);
    return e;
  }
  return ok_status();
}

Result<int64_t> DetectionStore::write(const std::vector<wire::DetectionRecord>& records) {
  if (Status s = exec("BEGIN IMMEDIATE;"); !s) return s.error();
  Statement frame;
  Statement det;
  if (sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO frames VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1,
                         &frame.s, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO detections VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &det.s, nullptr) != SQLITE_OK) {
    exec("ROLLBACK;");
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
    if (sqlite3_step(frame.s) != SQLITE_DONE) {
      Error e = db_error(db_, "inserting a frame");
      exec("ROLLBACK;");
      return e;
    }
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
      if (sqlite3_step(det.s) != SQLITE_DONE) {
        Error e = db_error(db_, "inserting a detection");
        exec("ROLLBACK;");
        return e;
      }
    }
  }
  if (Status s = exec("COMMIT;"); !s) {
    exec("ROLLBACK;");
    return s.error();
  }
  return added;
}

Result<std::vector<StoredDetection>> DetectionStore::query(const Query& q) {
  std::string sql =
      "SELECT d.camera, d.session_us, d.seq, d.idx, d.capture_us, d.class_id, d.label, d.score, "
      "d.x, d.y, d.w, d.h, f.width, f.height, f.topic, f.partition, f.\"offset\" "
      "FROM detections d JOIN frames f USING (camera, session_us, seq) WHERE d.score >= ?1";
  if (q.camera) sql += " AND d.camera = ?2";
  if (q.label) sql += " AND d.label = ?3";
  if (q.from_us) sql += " AND d.capture_us >= ?4";
  if (q.to_us) sql += " AND d.capture_us < ?5";
  sql += " ORDER BY d.capture_us, d.camera, d.idx";
  Statement st;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK)
    return db_error(db_, "preparing the query");
  sqlite3_bind_double(st.s, 1, q.min_score);
  if (q.camera) sqlite3_bind_text(st.s, 2, q.camera->c_str(), -1, SQLITE_TRANSIENT);
  if (q.label) sqlite3_bind_text(st.s, 3, q.label->c_str(), -1, SQLITE_TRANSIENT);
  if (q.from_us) sqlite3_bind_int64(st.s, 4, *q.from_us);
  if (q.to_us) sqlite3_bind_int64(st.s, 5, *q.to_us);
  std::vector<StoredDetection> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW && static_cast<int64_t>(out.size()) < q.limit) {
    StoredDetection d;
    d.frame.camera = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
    d.frame.session_us = sqlite3_column_int64(st.s, 1);
    d.frame.seq = sqlite3_column_int64(st.s, 2);
    d.index = sqlite3_column_int(st.s, 3);
    d.frame.capture_us = sqlite3_column_int64(st.s, 4);
    d.object.class_id = sqlite3_column_int(st.s, 5);
    const unsigned char* label = sqlite3_column_text(st.s, 6);
    d.object.label = label != nullptr ? reinterpret_cast<const char*>(label) : "";
    d.object.score = static_cast<float>(sqlite3_column_double(st.s, 7));
    d.object.box = {static_cast<float>(sqlite3_column_double(st.s, 8)),
                    static_cast<float>(sqlite3_column_double(st.s, 9)),
                    static_cast<float>(sqlite3_column_double(st.s, 10)),
                    static_cast<float>(sqlite3_column_double(st.s, 11))};
    d.frame.width = sqlite3_column_int(st.s, 12);
    d.frame.height = sqlite3_column_int(st.s, 13);
    const unsigned char* topic = sqlite3_column_text(st.s, 14);
    d.source.topic = topic != nullptr ? reinterpret_cast<const char*>(topic) : "";
    d.source.partition = sqlite3_column_int(st.s, 15);
    d.source.offset = sqlite3_column_int64(st.s, 16);
    if (!q.zone.empty()) {
      Point foot{d.object.box.x + d.object.box.w / 2, d.object.box.y + d.object.box.h};
      if (q.zone_normalised && d.frame.width > 0 && d.frame.height > 0) {
        foot.x /= d.frame.width;
        foot.y /= d.frame.height;
      }
      if (!inside(q.zone, foot)) continue;
    }
    out.push_back(std::move(d));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(db_, "running the query");
  return out;
}

Result<int64_t> DetectionStore::frame_count() {
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM frames", -1, &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW)
    return db_error(db_, "counting frames");
  return sqlite3_column_int64(st.s, 0);
}

Result<int64_t> DetectionStore::detection_count() {
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM detections", -1, &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW)
    return db_error(db_, "counting detections");
  return sqlite3_column_int64(st.s, 0);
}

}  // namespace kv::store
