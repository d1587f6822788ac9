// What every subcommand shares: Kafka flags, exit codes, and the bridge from signals to stop.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/result.h"
#include "detect/detector.h"
#include "kafka/config.h"
#include "kafka/topics.h"
#include "metrics/http_server.h"

namespace kv::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The action a parsed subcommand runs; returns the process exit code.
using Action = std::function<int()>;

// Prints "kvision <command>: error: <message>" and returns the exit code for the error:
// 2 for bad usage, configuration or missing inputs, 1 for everything else.
int report_error(std::string_view command, const Error& error);

struct KafkaOptions {
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> properties;
};

// Adds --brokers and -X key=value.
void add_kafka_options(CLI::App* cmd, KafkaOptions& options);
Result<kafka::KafkaConfig> make_kafka_config(const KafkaOptions& options);
// make_kafka_config, then a check that the cluster answers (within 30 s), which fails at once
// on refused credentials or a failed TLS handshake: for commands that need the cluster now.
Result<kafka::KafkaConfig> reach_kafka(const KafkaOptions& options);

// Adds --partitions, --replication-factor and --min-insync-replicas: how the topics a command
// writes are created when they do not exist yet (existing topics are left as they are).
void add_topic_options(CLI::App* cmd, kafka::TopicSettings& settings);

// Adds the detector flags every model-running command shares: --model, --labels, --input-size,
// --score (with the given default), --nms.
void add_model_options(CLI::App* cmd, detect::DetectorParams& params);

// Turns SIGINT/SIGTERM into a request on `source`, for as long as it lives.
class SignalBridge {
 public:
  explicit SignalBridge(std::stop_source& source);

 private:
  std::jthread watcher_;
};

// Number of CPU cores this process may use.
int available_cores();

// --threads and --infer-threads of the commands that run detectors (detect, replay).
struct WorkerOptions {
  int threads = 0;        // worker threads, each with its own model; 0: one per core
  int infer_threads = 0;  // threads inside each inference; 0: cores / threads
  int inter_threads = 1;  // ONNX Runtime inter-op threads; > 1: parallel graph execution
};
void add_worker_options(CLI::App* cmd, WorkerOptions& options);
// The worker count to use; sets the inference threads of the detectors made afterwards.
int apply_worker_options(const WorkerOptions& options);

// --metrics ADDR: serve Prometheus /metrics, /healthz and /readyz; over HTTPS with
// --metrics-tls-cert and --metrics-tls-key.
struct MetricsOptions {
  std::string address;
  std::string tls_cert;
  std::string tls_key;
};
void add_metrics_option(CLI::App* cmd, MetricsOptions& options);
// Starts the endpoint when an address was given (nullptr otherwise).
Result<std::unique_ptr<metrics::HttpServer>> start_metrics(const MetricsOptions& options,
                                                           metrics::ReadinessFn ready);

void add_broker_command(CLI::App& app, Action& action);
void add_ingest_command(CLI::App& app, Action& action);
void add_detect_command(CLI::App& app, Action& action);
void add_sink_command(CLI::App& app, Action& action);
void add_run_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);
void add_audit_command(CLI::App& app, Action& action);
void add_status_command(CLI::App& app, Action& action);
void add_store_command(CLI::App& app, Action& action);  // store and query
void add_alert_command(CLI::App& app, Action& action);
void add_web_command(CLI::App& app, Action& action);
void add_clip_command(CLI::App& app, Action& action);
void add_diff_command(CLI::App& app, Action& action);
void add_replay_command(CLI::App& app, Action& action);

}  // namespace kv::app
