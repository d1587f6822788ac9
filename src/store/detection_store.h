// Stored detections for search: one row per frame and per detected object, written
// idempotently (a redelivered record adds nothing) and durably (committed before the caller
// commits its Kafka offsets). SQLite, one file; PostgreSQL is not built yet.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/geometry.h"
#include "common/result.h"
#include "wire/detection_record.h"

struct sqlite3;

namespace kv::store {

using kv::Point;

struct Query {
  std::optional<std::string> camera;
  std::optional<std::string> label;
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

// Thread-safety: one thread at a time.
class DetectionStore {
 public:
  // `url`: a file path, or sqlite:PATH. postgresql://… is refused with a clear message.
  static Result<std::unique_ptr<DetectionStore>> open(const std::string& url);
  ~DetectionStore();
  DetectionStore(const DetectionStore&) = delete;
  DetectionStore& operator=(const DetectionStore&) = delete;

  // Writes the records in one transaction, durable when this returns. Returns the number of
  // frames that were new.
  Result<int64_t> write(const std::vector<wire::DetectionRecord>& records);

  Result<std::vector<StoredDetection>> query(const Query& q);
  Result<int64_t> frame_count();
  Result<int64_t> detection_count();

 private:
  DetectionStore() = default;
  Status exec(const char* sql);
  sqlite3* db_ = nullptr;
};

}  // namespace kv::store
