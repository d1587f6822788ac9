#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "common/result.h"
#include "kafka/config.h"
#include "media/frame_source.h"

namespace kv::kafka {
class Producer;
}

namespace kv::pipeline {

struct IngestParams {
  kafka::KafkaConfig kafka;
  std::string source;           // file, image folder, /dev/videoN or URL
  std::string camera = "cam0";  // record key
  int reconnect_attempts = 5;   // stream URLs: retries when unreachable or dropped
  bool keep_trying = false;     // stream URLs: once DOWN, go on retrying (see ReconnectPolicy)
  int io_timeout_ms = 10000;    // stream URLs: a connection or read silent this long fails
  std::string topic = "raw_video_frames";
  double fps = 0;          // sample to this rate; 0 keeps the source rate
  int64_t max_frames = 0;  // stop after publishing this many; 0: no limit
  int jpeg_quality = 80;
  bool realtime = false;  // pace file sources to their own clock
  double rate = 0;        // pace publishing to this many frames per second; 0: no pacing
  // Frames older than this may be skipped by a detector that has fallen behind (they stay in
  // the topic). -1: 2000 ms for live sources (devices, stream URLs), never for files and
  // folders, paced or not; 0: never.
  int64_t stale_after_ms = -1;
  // Optional flow control: wait while the detector group lags this many records behind on
  // our partition. 0 (the default): never wait; Kafka holds the backlog, bounded by retention.
  int64_t max_lag = 0;
  std::string lag_group = "kvision-detect";
  bool progress = false;  // draw a progress bar on stderr
};

struct IngestStats {
  int64_t frames_read = 0;
  int64_t frames_published = 0;  // acknowledged by the broker
  int64_t bytes_published = 0;
  int64_t delivery_failures = 0;
  int64_t backpressure_waits = 0;
  double elapsed_s = 0;
  int64_t last_frame_us = 0;  // wall time of the last frame published
};

struct IngestHooks {
  // After each frame is handed to the producer, and once at the end.
  std::function<void(const IngestStats&)> on_progress;
  // Each change of a stream's link (media::ReconnectPolicy::on_link).
  std::function<void(media::LinkState, const std::string& why)> on_link;
};

// Reads the source and publishes each sampled frame. Returns the stats, or an error when the
// source cannot be opened, stops early (truncated/corrupt) or records were not delivered;
// frames read before such an error are still flushed to the broker first.
//
// A stream that comes back after a drop goes on with its sequence numbers advanced by the
// frames it would have published meanwhile, so the gap shows. With `shared`, frames go through
// that producer (many cameras, one client); otherwise run_ingest makes its own.
Result<IngestStats> run_ingest(const IngestParams& params, std::stop_token stop,
                               const IngestHooks& hooks = {}, kafka::Producer* shared = nullptr);

}  // namespace kv::pipeline
