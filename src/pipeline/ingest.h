#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "common/result.h"
#include "kafka/config.h"

namespace kv::pipeline {

struct IngestParams {
  kafka::KafkaConfig kafka;
  std::string source;           // file, image folder, /dev/videoN or URL
  std::string camera = "cam0";  // record key
  int reconnect_attempts = 5;   // stream URLs: retries when unreachable or dropped
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
};

// Reads the source and publishes each sampled frame. Returns the stats, or an error when the
// source cannot be opened, stops early (truncated/corrupt) or records were not delivered;
// frames read before such an error are still flushed to the broker first.
Result<IngestStats> run_ingest(const IngestParams& params, std::stop_token stop,
                               const std::function<void(const IngestStats&)>& on_progress = {});

}  // namespace kv::pipeline
