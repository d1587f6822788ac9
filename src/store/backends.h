// The database behind DetectionStore::open(): SQLite or PostgreSQL.
#pragma once

#include <memory>
#include <string>

#include "store/detection_store.h"

namespace kv::store {

// Both create the schema when it is missing: a `frames` table (one row per frame, keyed by
// camera, session and seq, with the raw frame's topic, partition and offset) and a
// `detections` table (one row per object, keyed by the frame's key and its index).
Result<std::unique_ptr<DetectionStore>> open_sqlite(const std::string& path);
Result<std::unique_ptr<DetectionStore>> open_postgres(const std::string& url);

}  // namespace kv::store
