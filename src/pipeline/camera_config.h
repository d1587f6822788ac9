// The cameras file of `kvision ingest --cameras`: YAML, one entry per camera.
//
//   defaults:            # optional: applies to every camera below
//     fps: 5
//   cameras:
//     - id: lobby
//       source: rtsp://10.0.0.5/stream1
//     - id: archive
//       source: /data/video.mp4
//       realtime: true
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pipeline/ingest.h"

namespace kv::pipeline {

// Parses the file's text. Each camera starts from `base` (the command line's settings), then
// the file's defaults, then its own keys. Errors name the file and line: a YAML syntax error,
// an unknown key, a bad value, a missing id or source, a repeated id.
Result<std::vector<IngestParams>> parse_cameras(std::string_view yaml, const std::string& name,
                                                const IngestParams& base);
Result<std::vector<IngestParams>> load_cameras(const std::string& path, const IngestParams& base);

// True when a camera's settings are the same in both, so a reload leaves it running.
bool same_camera_settings(const IngestParams& a, const IngestParams& b);

// What a reload does, by camera id, in the new file's order.
struct CameraChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;    // restarted with the new settings
  std::vector<std::string> unchanged;  // left running
};
CameraChanges diff_cameras(const std::vector<IngestParams>& before,
                           const std::vector<IngestParams>& after);

}  // namespace kv::pipeline
