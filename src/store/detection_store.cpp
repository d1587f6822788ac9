#include "store/detection_store.h"

#include <algorithm>
#include <map>
#include <tuple>

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
      "d.x, d.y, d.w, d.h, f.width, f.height, f.topic, f.partition, f.\"offset\", d.track "
      "FROM detections d JOIN frames f USING (camera, session_us, seq) WHERE d.score >= " +
      ph(q.min_score);
  if (q.camera) out.sql += " AND d.camera = " + ph(*q.camera);
  if (q.label) out.sql += " AND d.label = " + ph(*q.label);
  if (q.track) out.sql += " AND d.track = " + ph(*q.track);
  if (q.tracked_only) out.sql += " AND d.track > 0";
  if (q.from_us) out.sql += " AND d.capture_us >= " + ph(*q.from_us);
  if (q.to_us) out.sql += " AND d.capture_us < " + ph(*q.to_us);
  out.sql += " ORDER BY d.capture_us, d.camera, d.idx";
  if (limit > 0) out.sql += " LIMIT " + ph(limit);
  return out;
}

namespace {

Point foot_of(const StoredDetection& d) {
  return {d.object.box.x + d.object.box.w / 2.0,
          static_cast<double>(d.object.box.y) + d.object.box.h};
}

bool in_zone(const Query& q, const StoredDetection& d) {
  if (q.zone.empty()) return true;
  Point foot = foot_of(d);
  if (q.zone_normalised && d.frame.width > 0 && d.frame.height > 0) {
    foot.x /= d.frame.width;
    foot.y /= d.frame.height;
  }
  return inside(q.zone, foot);
}

}  // namespace

Result<std::vector<TrackSummary>> DetectionStore::tracks(const Query& q, size_t max_path) {
  Query all = q;
  all.tracked_only = true;
  struct Building {
    TrackSummary summary;
    std::vector<Point> feet;
  };
  std::map<std::tuple<std::string, int64_t, int64_t>, Building> by_track;
  int64_t rows = 0;
  bool too_many = false;
  Status s = select(all, 0, [&](StoredDetection&& d) {
    if (++rows > kMaxSummaryRows) {
      too_many = true;
      return false;
    }
    if (!in_zone(q, d)) return true;
    Building& b = by_track[{d.frame.camera, d.frame.session_us, d.object.track_id}];
    TrackSummary& t = b.summary;
    if (t.detections++ == 0) {
      t.camera = d.frame.camera;
      t.session_us = d.frame.session_us;
      t.track = d.object.track_id;
      t.label = d.object.label;
      t.first_us = d.frame.capture_us;
      t.first = d;
    }
    t.last_us = d.frame.capture_us;
    b.feet.push_back(foot_of(d));
    return true;
  });
  if (!s) return s.error();
  if (too_many) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("more than {} tracked detections match; narrow the time range "
                                  "(from, to) or the camera",
                                  kMaxSummaryRows));
  }
  std::vector<TrackSummary> out;
  for (auto& [key, b] : by_track) {
    const size_t n = b.feet.size();
    const size_t keep = std::max<size_t>(2, max_path);
    if (n <= keep) {
      b.summary.path = std::move(b.feet);
    } else {
      for (size_t i = 0; i < keep; ++i) b.summary.path.push_back(b.feet[i * (n - 1) / (keep - 1)]);
    }
    out.push_back(std::move(b.summary));
  }
  std::sort(out.begin(), out.end(), [](const TrackSummary& a, const TrackSummary& b) {
    return std::tie(a.first_us, a.camera, a.track) < std::tie(b.first_us, b.camera, b.track);
  });
  if (static_cast<int64_t>(out.size()) > q.limit) out.resize(static_cast<size_t>(q.limit));
  return out;
}

Result<std::vector<StoredDetection>> DetectionStore::query(const Query& q) {
  std::vector<StoredDetection> out;
  // With a zone, rows are filtered here, so the database cannot apply the limit.
  Status s = select(q, q.zone.empty() ? q.limit : 0, [&](StoredDetection&& d) {
    if (!in_zone(q, d)) return true;
    out.push_back(std::move(d));
    return static_cast<int64_t>(out.size()) < q.limit;
  });
  if (!s) return s.error();
  return out;
}

}  // namespace kv::store
