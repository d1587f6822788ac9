// Stored detections for search: one row per frame and per detected object, written
// idempotently (a redelivered record adds nothing) and durably (committed before the caller
// commits its Kafka offsets). SQLite (one file) or PostgreSQL (a server, for teams that outgrow
// one machine).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/geometry.h"
#include "common/result.h"
#include "wire/detection_record.h"

namespace kv::store {

using kv::Point;

struct Query {
  std::optional<std::string> camera;
  std::optional<std::string> label;
  std::optional<int64_t> track;    // one object's detections (with camera: of that camera)
  bool tracked_only = false;       // only detections with a track ID
  std::optional<int64_t> from_us;  // capture time, inclusive
  std::optional<int64_t> to_us;    // capture time, exclusive
  double min_score = 0;
  // A polygon the box's bottom centre (where an object stands) must lie in: in pixels, or in
  // 0..1 of the frame's size when `zone_normalised`.
  std::vector<Point> zone;
  bool zone_normalised = false;
  int64_t limit = 1000;
};

struct StoredDetection {
  wire::FrameMeta frame;   // camera, session, seq, capture time, size
  wire::SourceRef source;  // the raw frame: topic, partition, offset
  wire::DetectedObject object;
  int index = 0;  // the object's position in its frame's record
};

// One tracked object's story, from its detections matching a query.
struct TrackSummary {
  std::string camera;
  int64_t session_us = 0;  // track IDs count per camera and ingest session
  int64_t track = 0;
  std::string label;
  int64_t first_us = 0;  // capture time first and last seen
  int64_t last_us = 0;
  int64_t detections = 0;
  StoredDetection first;    // its first sighting, with the frame reference
  std::vector<Point> path;  // where it stood (box bottom centre, pixels), evenly over its time
};

// Thread-safety: one thread at a time.
class DetectionStore {
 public:
  // `url`: a SQLite file path (or sqlite:PATH), or postgresql://USER@HOST:PORT/DB (any libpq
  // connection URI; postgres:// too).
  static Result<std::unique_ptr<DetectionStore>> open(const std::string& url);
  virtual ~DetectionStore() = default;
  DetectionStore(const DetectionStore&) = delete;
  DetectionStore& operator=(const DetectionStore&) = delete;

  // Writes the records in one transaction, durable when this returns. Returns the number of
  // frames that were new.
  virtual Result<int64_t> write(const std::vector<wire::DetectionRecord>& records) = 0;

  Result<std::vector<StoredDetection>> query(const Query& q);
  // The tracked objects among the query's detections, in order of first sighting, at most
  // q.limit of them, each path at most `max_path` points. Reads at most kMaxSummaryRows
  // detections (narrow the time range beyond that).
  Result<std::vector<TrackSummary>> tracks(const Query& q, size_t max_path = 32);
  static constexpr int64_t kMaxSummaryRows = 2'000'000;
  virtual Result<int64_t> frame_count() = 0;
  virtual Result<int64_t> detection_count() = 0;

 protected:
  DetectionStore() = default;
  // The rows matching the query's SQL filters (camera, label, time, score), in capture-time
  // order, at most `limit` (0: no limit); `row` is called for each and may stop by returning
  // false.
  virtual Status select(const Query& q, int64_t limit,
                        const std::function<bool(StoredDetection&&)>& row) = 0;
};

// The SELECT for a query, with numbered placeholders ("?1" or "$1") and their values.
struct SelectSql {
  std::string sql;
  std::vector<std::variant<std::string, int64_t, double>> params;
};
SelectSql select_sql(const Query& q, int64_t limit, bool dollar_placeholders);

}  // namespace kv::store
