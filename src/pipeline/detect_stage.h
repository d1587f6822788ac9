#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.h"
#include "detect/detector.h"
#include "kafka/config.h"
#include "kafka/topics.h"
#include "track/byte_tracker.h"
#include "wire/topics.h"

namespace kv::pipeline {

struct DetectStageParams {
  kafka::KafkaConfig kafka;
  std::string group = "kvision-detect";
  std::string input_topic = "raw_video_frames";
  std::string processed_topic = "processed_images";  // empty: results go to detections only
  std::string detections_topic = "detections";
  detect::DetectorParams detector;
  // Multi-object tracking per camera (docs/tracking.md): track IDs in the results, and each
  // camera's tracker state on state_topic so that the member taking a partition over
  // continues its IDs. State written longer than track_state_window_ms ago is not restored.
  bool track = true;
  track::ByteTrackParams tracker;
  std::string state_topic = std::string(wire::kTrackerStateTopic);
  int64_t track_state_window_ms = 120000;
  kafka::TopicSettings topics;  // for the state topic, if it must be created
  int threads = 1;              // worker threads, each with its own detector instance
  int delay_ms = 0;             // added to every frame (testing: a slow model)
  int delay_jitter_ms = 0;  // and a random 0..this more (testing: workers finishing out of order)
  // Skip a frame older than this when a worker reaches it (recorded on <input>.skipped, the
  // frame stays in the input topic). -1: as each frame says (kv.stale_after_ms: ingest sets
  // it for live sources); 0: never skip.
  int64_t max_staleness_ms = -1;
  // Exactly-once: results, dead letters and input offsets are committed in one transaction.
  bool exactly_once = false;
  std::string transactional_id;        // empty: "<group>-<host>-<pid>"
  int transaction_interval_ms = 250;   // how often a transaction is committed
  int transaction_timeout_ms = 10000;  // the broker aborts a transaction open longer
  // Replay of stored frames (kvision replay, src/vlog/replay.h): only frames of `camera`
  // (every camera if empty) whose record timestamps lie in [from_ms, to_ms] are processed;
  // the others pass, their offsets committed, with no output. run() returns, after committing,
  // once every assigned partition is done: it reached its end in `ends` (the log end when the
  // replay started; a partition missing there has nothing to do) or a record past to_ms.
  struct Replay {
    bool enabled = false;
    int64_t from_ms = 0;
    int64_t to_ms = 0;
    std::string camera;
    std::map<int32_t, int64_t> ends;
  } replay;
};

// Counters of one stage instance; read from any thread.
struct DetectStats {
  std::atomic<int64_t> consumed{0};
  std::atomic<int64_t> processed{0};      // results acknowledged by the broker
  std::atomic<int64_t> bad_records{0};    // records that could not be processed
  std::atomic<int64_t> dead_lettered{0};  // of those, acknowledged on the .dlq topic
  std::atomic<int64_t> skipped{0};        // stale frames, acknowledged on the .skipped topic
  std::atomic<int64_t> delivery_failures{0};
  std::atomic<int> assigned_partitions{0};      // currently owned input partitions
  std::atomic<int64_t> sequence_missing{0};     // frames a camera's sequence skipped
  std::atomic<int64_t> sequence_duplicates{0};  // frames that arrived again
  std::atomic<int64_t> transactions_committed{0};
  std::atomic<int64_t> transactions_aborted{0};
  std::atomic<int64_t> tracks_restored{0};  // cameras whose tracker state was read back
  std::atomic<int64_t> passed{0};           // replay: records outside its window
};

// A member of the detector consumer group: consumes frames, runs the detector on `threads`
// workers and publishes each result to processed_images and detections. Results leave in
// input order per partition, and so per camera, however the workers finish: a finished frame
// waits for its predecessors (OrderedRelease). A frame older than its staleness limit is
// skipped: recorded on <input>.skipped, not processed. With tracking on, a result's
// detections carry track IDs, and the camera's tracker state goes out with it.
// At-least-once (default): an input offset is committed only after both results (or its dead
// letter) are acknowledged. Exactly-once: the outputs and the input offsets are committed
// together in a Kafka transaction every transaction_interval_ms; an aborted transaction's
// records are read again and redone, and a member fenced by a rebalance (KIP-447) or by a
// newer instance of its transactional id cannot commit.
//
// Lifecycle: create() loads the model(s) -> run() until the stop token fires -> run() drains
// in-flight frames, flushes and commits before returning.
class DetectStage {
 public:
  static Result<std::unique_ptr<DetectStage>> create(const DetectStageParams& params);
  ~DetectStage();

  Status run(std::stop_token stop);

  const DetectStats& stats() const;
  const std::string& model_name() const;

 private:
  class Impl;
  explicit DetectStage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kv::pipeline
