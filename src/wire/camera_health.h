// A camera's health: one JSON record per change and every few seconds, keyed by camera, on
// the camera_health topic (kvision ingest --cameras). kvision status and the live view read
// the latest record of each camera.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kv::wire {

// UP: frames arrive. RECONNECTING: the source dropped or is being opened, retries go on.
// DOWN: the retries are spent (streams keep trying slowly) or the source failed. FINISHED: a
// file or folder was read to its end. REMOVED: taken out of the cameras file.
enum class CameraState { kUp, kReconnecting, kDown, kFinished, kRemoved };

std::string_view camera_state_name(CameraState s);

// The reason of a camera's last record when its ingest process stopped it (then nothing more
// is expected from it, unlike a process that died).
inline constexpr std::string_view kStoppedReason = "stopped";

// Every camera's record is published again this often, changed or not; a camera without a
// record for kSilentAfterMs has lost its ingest process.
inline constexpr int kHealthHeartbeatMs = 5000;
inline constexpr int kSilentAfterMs = 4 * kHealthHeartbeatMs;
Result<CameraState> parse_camera_state(std::string_view name);

struct CameraHealth {
  std::string camera;
  CameraState state = CameraState::kReconnecting;
  std::string source;    // credentials redacted
  std::string reason;    // why the state last changed ("connected", "dropped after 120 frames")
  int64_t since_us = 0;  // wall time of the last state change
  int64_t last_frame_us = 0;  // wall time of the last frame published; 0: none yet
  int64_t frames = 0;         // published since the camera started
  int64_t reconnects = 0;     // drops it came back from
  int64_t updated_us = 0;     // wall time of this record
  std::string host;           // the ingest process: host name and pid
};

std::string encode_camera_health(const CameraHealth& h);
Result<CameraHealth> decode_camera_health(std::string_view json);

}  // namespace kv::wire
