#include "app/cli.h"

#include <sched.h>

#include <chrono>
#include <cstdio>

#include "common/stop.h"
#include "kafka/admin.h"

namespace kv::app {

int report_error(std::string_view command, const Error& error) {
  std::fprintf(stderr, "kvision %.*s: error: %s\n", static_cast<int>(command.size()),
               command.data(), error.message.c_str());
  const bool usage =
      error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kNotFound;
  return usage ? kExitUsage : kExitFailure;
}

void add_kafka_options(CLI::App* cmd, KafkaOptions& o) {
  cmd->add_option("--brokers,-b", o.brokers, "Kafka bootstrap servers, host:port[,host:port...]")
      ->capture_default_str();
  cmd->add_option("-X", o.properties,
                  "librdkafka property key=value, applied after kvision's defaults (repeatable), "
                  "e.g. -X security.protocol=SASL_SSL");
}

void add_topic_options(CLI::App* cmd, kafka::TopicSettings& t) {
  cmd->add_option("--partitions", t.partitions,
                  "Partitions of a topic this command creates (the most detectors that can share "
                  "it); existing topics are kept")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--replication-factor", t.replication_factor,
                  "Replicas of each partition of a topic this command creates (0: min(3, "
                  "brokers))")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--min-insync-replicas", t.min_insync_replicas,
                  "min.insync.replicas of a topic this command creates: replicas that must have a "
                  "write before acks=all succeeds (0: min(2, replication factor))")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
}

void add_model_options(CLI::App* cmd, detect::DetectorParams& p) {
  cmd->add_option("--model,-m", p.model_path,
                  "Model: weights (.onnx, Darknet .weights) or a JSON sidecar naming family, "
                  "input size and files (see docs/models.md; models/*.json); without it, "
                  "OpenCV's HOG people detector");
  cmd->add_option("--family", p.family, "Model family, overriding the sidecar")
      ->check(CLI::IsMember({"yolox", "fastestdet", "darknet"}));
  cmd->add_option("--input-size", p.input_size,
                  "Square model input in pixels, overriding the sidecar");
  cmd->add_option("--config", p.config_path, "Darknet .cfg, overriding the sidecar");
  cmd->add_option("--labels", p.labels_path,
                  "Class names, one per line (default: the sidecar's, else <model>.names or "
                  "coco.names beside the model, else COCO's 80)");
  cmd->add_option("--score", p.score_threshold, "Minimum detection score")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--nms", p.nms_iou, "NMS IoU threshold")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--engine", p.engine,
                  "What runs the model: onnxruntime (ONNX models; 2-2.5x OpenCV's speed), "
                  "opencv (OpenCV DNN: ONNX and Darknet), or auto (onnxruntime where it can)")
      ->capture_default_str()
      ->check([](const std::string& v) -> std::string {
        if (v == "auto" || v == "onnxruntime" || v == "opencv") return "";
        if (v == "durable" || v == "mock")
          return "--engine chooses the inference engine now; the embedded broker is "
                 "--broker-engine " +
                 v;
        return "expected auto, onnxruntime or opencv";
      });
}

Result<kafka::KafkaConfig> make_kafka_config(const KafkaOptions& o) {
  kafka::KafkaConfig config;
  config.brokers = o.brokers;
  for (const std::string& text : o.properties) {
    auto prop = kafka::parse_property(text);
    if (!prop) return prop.error();
    config.overrides.push_back(std::move(*prop));
  }
  // Validate the whole set now, so a typo fails at start-up with exit code 2.
  if (Status s = kafka::validate(config); !s) return s.error();
  return config;
}

Result<kafka::KafkaConfig> reach_kafka(const KafkaOptions& o) {
  auto config = make_kafka_config(o);
  if (!config) return config.error();
  if (Status s = kafka::check_cluster(*config, 30000); !s) return s.error();
  return config;
}

SignalBridge::SignalBridge(std::stop_source& source)
    : watcher_([&source](std::stop_token self) {
        while (!self.stop_requested()) {
          if (stop_requested()) {
            source.request_stop();
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }) {}

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace kv::app

namespace kv::app {

void add_worker_options(CLI::App* cmd, WorkerOptions& o) {
  cmd->add_option("--threads,-t", o.threads,
                  "Worker threads, each with its own model instance (0: one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--infer-threads", o.infer_threads,
                  "Threads inside each inference (0: cores / threads)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--inter-op-threads", o.inter_threads,
                  "ONNX Runtime: more than 1 runs independent graph nodes at once on that many "
                  "threads (kvision bench measures whether it helps a model)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
}

int apply_worker_options(const WorkerOptions& o) {
  const int cores = available_cores();
  const int threads = o.threads > 0 ? o.threads : cores;
  detect::set_inference_threads(o.infer_threads > 0 ? o.infer_threads
                                                    : std::max(1, cores / threads));
  detect::set_inter_op_threads(o.inter_threads);
  return threads;
}

void add_metrics_option(CLI::App* cmd, MetricsOptions& o) {
  cmd->add_option("--metrics", o.address,
                  "Serve Prometheus metrics at http://ADDR/metrics, with /healthz and /readyz "
                  "(ADDR: HOST:PORT, :PORT or PORT; loopback unless a host is given)");
  cmd->add_option("--metrics-tls-cert", o.tls_cert,
                  "PEM certificate chain: serve the metrics over HTTPS (with --metrics-tls-key)");
  cmd->add_option("--metrics-tls-key", o.tls_key, "PEM private key of --metrics-tls-cert");
}

Result<std::unique_ptr<metrics::HttpServer>> start_metrics(const MetricsOptions& o,
                                                           metrics::ReadinessFn ready) {
  if (o.address.empty()) return std::unique_ptr<metrics::HttpServer>();
  http::ServerOptions server;
  server.tls_cert = o.tls_cert;
  server.tls_key = o.tls_key;
  return metrics::HttpServer::start(o.address, metrics::global(), std::move(ready), server);
}

}  // namespace kv::app
