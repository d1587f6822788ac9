// The whole pipeline in one process: an embedded broker, detector group members and a result
// consumer, on the same code paths as the separate commands. Used by `kvision run`,
// `kvision eval --through-kafka` and `kvision bench`.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "common/result.h"
#include "detect/detector.h"
#include "kafka/config.h"
#include "kafka/mock_cluster.h"
#include "pipeline/detect_stage.h"
#include "pipeline/ingest.h"
#include "wire/detection_record.h"

namespace kv::app {

// An embedded broker: the durable engine in `data_dir` (empty: a temporary directory, removed
// with it) or librdkafka's mock cluster, with kvision's topics.
class LocalBroker {
 public:
  static Result<std::unique_ptr<LocalBroker>> start(const std::string& engine,
                                                    const std::string& data_dir, int port,
                                                    int partitions);
  ~LocalBroker();
  LocalBroker(const LocalBroker&) = delete;
  LocalBroker& operator=(const LocalBroker&) = delete;
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  LocalBroker() = default;
  std::string bootstrap_;
  std::unique_ptr<broker::DurableBroker> durable_;
  std::unique_ptr<kafka::MockCluster> mock_;
  std::filesystem::path temp_dir_;
};

struct LocalPipelineParams {
  std::string engine = "durable";  // or "mock"
  std::string data_dir;            // durable engine; empty: a temporary directory
  int port = 0;                    // 0: a free port
  int partitions = 4;
  kafka::KafkaConfig kafka;  // overrides only: the brokers are the embedded ones
  detect::DetectorParams detector;
  int detectors = 1;          // group members
  int threads = 0;            // worker threads per member; 0: one per core
  int infer_threads = 0;      // engine threads per inference; 0: cores / threads
  bool exactly_once = false;  // detectors commit results and offsets in transactions
  bool track = true;          // detectors track objects (track IDs in the results)
  // Every result, on the consumer's thread, with the wall time it was received.
  std::function<void(const wire::DetectionRecord&, int64_t receive_us)> on_record;
};

// Lifecycle: start() (broker, detectors, consumer; returns once every member owns partitions)
// -> ingest()* -> wait_for() -> destroyed (stops the members, then the broker).
class LocalPipeline {
 public:
  static Result<std::unique_ptr<LocalPipeline>> start(const LocalPipelineParams& params,
                                                      std::stop_token stop);
  ~LocalPipeline();
  LocalPipeline(const LocalPipeline&) = delete;
  LocalPipeline& operator=(const LocalPipeline&) = delete;

  const std::string& brokers() const { return kafka_.brokers; }
  const kafka::KafkaConfig& kafka() const { return kafka_; }
  std::string model_name() const;
  int threads() const { return threads_; }
  int infer_threads() const { return infer_threads_; }

  // Runs ingest to the embedded broker (params.kafka is set here). Stops early, with that
  // error, when a detector or the result consumer fails.
  Result<pipeline::IngestStats> ingest(pipeline::IngestParams params, std::stop_token stop);
  // Waits until `count` results have arrived in total. Fails with the first error of a
  // detector or the result consumer as soon as one stops on it (checked every few ms), with
  // kTimeout when no result arrived for `idle_timeout_s`, and with kCancelled on stop.
  Status wait_for(int64_t count, int idle_timeout_s, std::stop_token stop) const;
  // The first error a detector or the result consumer stopped on, if any.
  std::optional<Error> failure() const;
  int64_t results() const { return results_.load(); }
  int64_t bad_records() const;

  LocalPipeline() = default;
  std::unique_ptr<LocalBroker> broker_;
  kafka::KafkaConfig kafka_;
  int threads_ = 1;
  int infer_threads_ = 1;
  std::vector<std::unique_ptr<pipeline::DetectStage>> stages_;
  std::stop_source members_stop_;
  std::vector<std::jthread> member_threads_;
  std::jthread sink_thread_;
  std::atomic<int64_t> results_{0};
  // Set by the member and consumer threads when they stop on an error (the first one wins).
  void fail(const std::string& who, const Error& error);
  mutable std::mutex failure_mu_;
  std::optional<Error> failure_;
  std::stop_source failed_;  // requested on the first failure
  std::atomic<bool> sink_ready_{false};
};

}  // namespace kv::app
