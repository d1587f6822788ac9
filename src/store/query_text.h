// Queries as text, shared by `kvision query` (flags) and kvision web's /api/query (URL
// parameters): the parameters in, one JSON object per stored detection out.
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "store/detection_store.h"

namespace kv::store {

// Parameters: camera, label, track (an object's ID), from, to (2026-11-25T02:31:04Z or epoch
// ms), min_score, zone ("x,y x,y x,y ..."), normalised (1/true), limit. Unknown names are
// refused.
Result<Query> query_from_params(const std::map<std::string, std::string>& params);

// "2026-11-25T02:31:04Z" (UTC) or milliseconds since the epoch, to microseconds.
Result<int64_t> parse_time(const std::string& text);
Result<std::vector<Point>> parse_zone(const std::string& text);

// camera, time, capture_us, session_us, seq, label, score, box, and the frame reference; with
// `frames_dir`, also "jpeg": the kept frame's file, when it is (still) there.
std::string stored_detection_json(const StoredDetection& d, const std::string& frames_dir = "");
// camera, session_us, track, label, first/last seen (time and capture_us), duration_s,
// detections, path [[x, y], ...] and the first sighting's frame reference.
std::string track_summary_json(const TrackSummary& t);

}  // namespace kv::store
