// The detection record: one compact JSON object per processed frame, the value on the
// `detections` topic and the `kv.detections` header on `processed_images`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "wire/frame_headers.h"

namespace kv::wire {

// 1: the first record. 2: a detection may carry "track", the ID of the object it belongs to
// across frames (per camera). Records of version 1 still decode (without track IDs).
inline constexpr int kDetectionSchemaVersion = 2;

// A box in original-frame pixels: top-left corner and size.
struct BoxPx {
  float x = 0;
  float y = 0;
  float w = 0;
  float h = 0;
};

struct DetectedObject {
  int class_id = 0;
  std::string label;
  float score = 0;  // 0..1
  BoxPx box;
  int64_t track_id = 0;  // the object's ID across this camera's frames; 0: not tracked
};

// Where the frame was read from, so a result can be traced to its input record.
struct SourceRef {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// Milliseconds spent in each stage of the detector for this frame.
struct StageTimings {
  double queue_ms = 0;        // consumed -> a worker picked it up
  double decode_ms = 0;       // JPEG -> pixels
  double preprocess_ms = 0;   // letterbox, blob
  double infer_ms = 0;        // model forward pass
  double postprocess_ms = 0;  // decode proposals, NMS, rescale
};

struct DetectionRecord {
  FrameMeta frame;  // camera, seq, session, pos, capture time, size, format
  SourceRef source;
  std::string model;
  int64_t processed_us = 0;  // wall time the result was produced
  // Frames of this camera just before this one that the detector published no result for:
  // skipped as stale, or dead-lettered. A consumer's sequence check takes them as accounted
  // for, not missing.
  int64_t skipped_before = 0;
  StageTimings timings;
  std::vector<DetectedObject> detections;
};

std::string encode_detection_record(const DetectionRecord& record);
Result<DetectionRecord> decode_detection_record(std::string_view json);

}  // namespace kv::wire
