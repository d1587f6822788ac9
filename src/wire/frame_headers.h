// Headers of a frame record on raw_video_frames (and, with the detections added, on
// processed_images). Values are ASCII so that any Kafka tool can read them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kv::wire {

// The frame headers' version (kv.schema). The detection record has its own
// (kDetectionSchemaVersion), so that a change to one does not make readers refuse the other.
inline constexpr int kSchemaVersion = 1;

// Header names, "kv." prefixed so they never collide with an application's own headers.
inline constexpr const char* kHdrSchema = "kv.schema";
inline constexpr const char* kHdrCamera = "kv.camera";
inline constexpr const char* kHdrSeq = "kv.seq";
inline constexpr const char* kHdrSession = "kv.session";
inline constexpr const char* kHdrStreamPos = "kv.pos_ms";
inline constexpr const char* kHdrCaptureTime = "kv.capture_us";
inline constexpr const char* kHdrWidth = "kv.width";
inline constexpr const char* kHdrHeight = "kv.height";
inline constexpr const char* kHdrFormat = "kv.format";
inline constexpr const char* kHdrDetections = "kv.detections";  // processed_images only
// Optional: a detector may skip the frame once it is older than this (see FrameMeta).
inline constexpr const char* kHdrStaleAfter = "kv.stale_after_ms";

using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

// What ingest knows about one frame.
struct FrameMeta {
  std::string camera;
  int64_t seq = 0;            // 0,1,2,... per camera and ingest session
  int64_t session_us = 0;     // wall time the ingest session started; a new value = seq restarted
  int64_t stream_pos_ms = 0;  // position of the frame in its source (file time or since start)
  int64_t capture_us = 0;     // wall time the frame was captured/decoded, µs since the epoch
  int32_t width = 0;
  int32_t height = 0;
  std::string format = "jpeg";
  // Live sources: once the frame is this old, a detector that has fallen behind may skip it
  // rather than process it late (it stays in raw_video_frames). 0: never skip (files).
  int64_t stale_after_ms = 0;
};

Headers encode_frame_headers(const FrameMeta& meta);

// Decodes and validates the headers; a missing or garbled header is an error naming it.
// Unknown headers are ignored. A schema newer than kSchemaVersion is rejected.
Result<FrameMeta> decode_frame_headers(const Headers& headers);

// The value of the first header named `name`, or nullptr.
const std::string* find_header(const Headers& headers, const std::string& name);

}  // namespace kv::wire
