#include "store/detection_store.h"

#include <fmt/format.h>

#include "store/backends.h"

namespace kv::store {

Result<std::unique_ptr<DetectionStore>> DetectionStore::open(const std::string& url) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return open_postgres(url);
  }
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "--db needs a file name");
  return open_sqlite(path);
}

SelectSql select_sql(const Query& q, int64_t limit, bool dollar) {
  SelectSql out;
  auto ph = [&](std::variant<std::string, int64_t, double> v) {
    out.params.push_back(std::move(v));
    return fmt::format("{}{}", dollar ? '$' : '?', out.params.size());
  };
  out.sql =
      "SELECT d.camera, d.session_us, d.seq, d.idx, d.capture_us, d.class_id, d.label, d.score, "
      "d.x, d.y, d.w, d.h, f.width, f.height, f.topic, f.partition, f.\"offset\" "
      "FROM detections d JOIN frames f USING (camera, session_us, seq) WHERE d.score >= " +
      ph(q.min_score);
  if (q.camera) out.sql += " AND d.camera = " + ph(*q.camera);
  if (q.label) out.sql += " AND d.label = " + ph(*q.label);
  if (q.from_us) out.sql += " AND d.capture_us >= " + ph(*q.from_us);
  if (q.to_us) out.sql += " AND d.capture_us < " + ph(*q.to_us);
  out.sql += " ORDER BY d.capture_us, d.camera, d.idx";
  if (limit > 0) out.sql += " LIMIT " + ph(limit);
  return out;
}

Result<std::vector<StoredDetection>> DetectionStore::query(const Query& q) {
  std::vector<StoredDetection> out;
  // With a zone, rows are filtered here, so the database cannot apply the limit.
  Status s = select(q, q.zone.empty() ? q.limit : 0, [&](StoredDetection&& d) {
    if (!q.zone.empty()) {
      Point foot{d.object.box.x + d.object.box.w / 2.0,
                 static_cast<double>(d.object.box.y) + d.object.box.h};
      if (q.zone_normalised && d.frame.width > 0 && d.frame.height > 0) {
        foot.x /= d.frame.width;
        foot.y /= d.frame.height;
      }
      if (!inside(q.zone, foot)) return true;
    }
    out.push_back(std::move(d));
    return static_cast<int64_t>(out.size()) < q.limit;
  });
  if (!s) return s.error();
  return out;
}

}  // namespace kv::store
