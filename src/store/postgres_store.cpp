// DetectionStore on PostgreSQL (libpq): the same tables as SQLite, written in multi-row
// INSERT ... ON CONFLICT DO NOTHING statements inside one transaction per batch; a batch is
// durable when COMMIT returns (synchronous_commit, PostgreSQL's default).
#include <libpq-fe.h>

#include <charconv>
#include <memory>

#include <fmt/format.h>

#include "common/log.h"
#include "store/backends.h"

namespace kv::store {
namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

constexpr const char* kPostgresSchema = R"sql(
SELECT pg_advisory_xact_lock(4711);
CREATE TABLE IF NOT EXISTS frames(
  camera TEXT NOT NULL, session_us BIGINT NOT NULL, seq BIGINT NOT NULL,
  capture_us BIGINT NOT NULL, width INTEGER, height INTEGER, model TEXT,
  topic TEXT, partition INTEGER, "offset" BIGINT, detections INTEGER,
  PRIMARY KEY (camera, session_us, seq));
CREATE TABLE IF NOT EXISTS detections(
  camera TEXT NOT NULL, session_us BIGINT NOT NULL, seq BIGINT NOT NULL, idx INTEGER NOT NULL,
  capture_us BIGINT NOT NULL, class_id INTEGER, label TEXT, score REAL,
  x REAL, y REAL, w REAL, h REAL, track BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (camera, session_us, seq, idx));
CREATE INDEX IF NOT EXISTS detections_by_time ON detections(camera, capture_us);
CREATE INDEX IF NOT EXISTS detections_by_label ON detections(label, capture_us);
-- Databases made before track IDs (detection record version 1); 0: untracked.
ALTER TABLE detections ADD COLUMN IF NOT EXISTS track BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS detections_by_track ON detections(camera, track, capture_us);
)sql";

constexpr size_t kMaxParams = 60000;  // PostgreSQL takes at most 65535 per statement

template <class T>
T number(const char* text) {
  T v{};
  std::from_chars(text, text + std::strlen(text), v);
  return v;
}

class PostgresStore final : public DetectionStore {
 public:
  explicit PostgresStore(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  ~PostgresStore() override { PQfinish(conn_); }

  Status exec(const char* sql, ExecStatusType expected = PGRES_COMMAND_OK) {
    PgResult r(PQexec(conn_, sql));
    if (PQresultStatus(r.get()) != expected && PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      return error("");
    return ok_status();
  }

  Result<int64_t> write(const std::vector<wire::DetectionRecord>& records) override {
    auto written = write_once(records);
    if (!written && PQstatus(conn_) == CONNECTION_BAD) {
      log_warn("store: the PostgreSQL connection to {} broke; reconnecting", where_);
      PQreset(conn_);
      if (PQstatus(conn_) == CONNECTION_OK) written = write_once(records);
    }
    return written;
  }

  Result<int64_t> frame_count() override { return count("SELECT COUNT(*) FROM frames"); }
  Result<int64_t> detection_count() override { return count("SELECT COUNT(*) FROM detections"); }

 protected:
  Status select(const Query& q, int64_t limit,
                const std::function<bool(StoredDetection&&)>& row) override {
    const SelectSql sel = select_sql(q, limit, true);
    std::vector<std::string> text;
    for (const auto& p : sel.params) {
      if (const auto* s = std::get_if<std::string>(&p)) {
        text.push_back(*s);
      } else if (const auto* v = std::get_if<int64_t>(&p)) {
        text.push_back(std::to_string(*v));
      } else {
        text.push_back(fmt::format("{}", std::get<double>(p)));
      }
    }
    std::vector<const char*> values;
    for (const std::string& t : text) values.push_back(t.c_str());
    PgResult r(PQexecParams(conn_, sel.sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return error("running the query: ");
    const int n = PQntuples(r.get());
    for (int i = 0; i < n; ++i) {
      auto v = [&](int c) { return PQgetvalue(r.get(), i, c); };
      StoredDetection d;
      d.frame.camera = v(0);
      d.frame.session_us = number<int64_t>(v(1));
      d.frame.seq = number<int64_t>(v(2));
      d.index = number<int>(v(3));
      d.frame.capture_us = number<int64_t>(v(4));
      d.object.class_id = number<int>(v(5));
      d.object.label = v(6);
      d.object.score = number<float>(v(7));
      d.object.box = {number<float>(v(8)), number<float>(v(9)), number<float>(v(10)),
                      number<float>(v(11))};
      d.frame.width = number<int>(v(12));
      d.frame.height = number<int>(v(13));
      d.source.topic = v(14);
      d.source.partition = number<int32_t>(v(15));
      d.source.offset = number<int64_t>(v(16));
      d.object.track_id = number<int64_t>(v(17));
      if (!row(std::move(d))) break;
    }
    return ok_status();
  }

 private:
  Error error(const std::string& what) const {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return make_error(ErrorCode::kIo, fmt::format("PostgreSQL {}: {}{}", where_, what, msg));
  }

  // INSERT INTO table VALUES (...), (...) ON CONFLICT DO NOTHING, in statements of at most
  // kMaxParams parameters. Returns the rows inserted.
  Result<int64_t> insert(const char* table, size_t columns, const std::vector<std::string>& cells) {
    int64_t added = 0;
    const size_t rows_per_statement = kMaxParams / columns;
    for (size_t first = 0; first < cells.size(); first += rows_per_statement * columns) {
      const size_t end = std::min(cells.size(), first + rows_per_statement * columns);
      std::string sql = fmt::format("INSERT INTO {} VALUES ", table);
      std::vector<const char*> values;
      for (size_t c = first; c < end; c += columns) {
        sql += c == first ? "(" : ",(";
        for (size_t k = 0; k < columns; ++k) {
          values.push_back(cells[c + k].c_str());
          sql += fmt::format("{}${}", k == 0 ? "" : ",", values.size());
        }
        sql += ")";
      }
      sql += " ON CONFLICT DO NOTHING";
      PgResult r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
        return error(fmt::format("inserting into {}: ", table));
      added += number<int64_t>(PQcmdTuples(r.get()));
    }
    return added;
  }

  Result<int64_t> write_once(const std::vector<wire::DetectionRecord>& records) {
    std::vector<std::string> frames;
    std::vector<std::string> dets;
    for (const wire::DetectionRecord& r : records) {
      const wire::FrameMeta& f = r.frame;
      for (std::string cell :
           {f.camera, std::to_string(f.session_us), std::to_string(f.seq),
            std::to_string(f.capture_us), std::to_string(f.width), std::to_string(f.height),
            r.model, r.source.topic, std::to_string(r.source.partition),
            std::to_string(r.source.offset), std::to_string(r.detections.size())}) {
        frames.push_back(std::move(cell));
      }
      for (size_t i = 0; i < r.detections.size(); ++i) {
        const wire::DetectedObject& d = r.detections[i];
        for (std::string cell :
             {f.camera, std::to_string(f.session_us), std::to_string(f.seq), std::to_string(i),
              std::to_string(f.capture_us), std::to_string(d.class_id), d.label,
              fmt::format("{}", d.score), fmt::format("{}", d.box.x), fmt::format("{}", d.box.y),
              fmt::format("{}", d.box.w), fmt::format("{}", d.box.h), std::to_string(d.track_id)}) {
          dets.push_back(std::move(cell));
        }
      }
    }
    if (records.empty()) return int64_t{0};
    if (Status s = exec("BEGIN"); !s) return s.error();
    auto added = insert("frames", 11, frames);
    Result<int64_t> det_added =
        added ? insert("detections", 13, dets) : Result<int64_t>(added.error());
    if (!det_added) {
      (void)exec("ROLLBACK");
      return det_added.error();
    }
    if (Status s = exec("COMMIT"); !s) return s.error();
    return added;
  }

  Result<int64_t> count(const char* sql) {
    PgResult r(PQexec(conn_, sql));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return error("counting: ");
    return number<int64_t>(PQgetvalue(r.get(), 0, 0));
  }

  PGconn* conn_;
  std::string where_;  // host:port/db, for messages (never the password)
};

}  // namespace

Result<std::unique_ptr<DetectionStore>> open_postgres(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  const std::string where =
      conn == nullptr
          ? std::string("the --db URL")  // never the URL itself: it may hold a password
          : fmt::format("{}:{}/{}", PQhost(conn) ? PQhost(conn) : "?",
                        PQport(conn) ? PQport(conn) : "?", PQdb(conn) ? PQdb(conn) : "?");
  auto s = std::make_unique<PostgresStore>(conn, where);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot connect to PostgreSQL at {}: {}", where, msg));
  }
  // Quiet the "relation already exists, skipping" notices.
  if (Status st = s->exec("SET client_min_messages = warning"); !st) return st.error();
  if (Status st = s->exec("BEGIN"); !st) return st.error();
  if (Status st = s->exec(kPostgresSchema); !st) return st.error();
  if (Status st = s->exec("COMMIT"); !st) return st.error();
  return std::unique_ptr<DetectionStore>(std::move(s));
}

}  // namespace kv::store
