// kvision broker: the embedded Kafka-protocol broker, until SIGINT/SIGTERM.
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "app/cli.h"
#include "broker/broker.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/stop.h"
#include "kafka/mock_cluster.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct BrokerOptions {
  kafka::BrokerParams params;
  std::vector<std::string> topics;
  std::string engine = "durable";
  MetricsOptions metrics;
  std::string host = "127.0.0.1";
  std::string advertised_host;
  std::string data_dir = "kvision-data";
  broker::LogConfig log;
  int retention_check_ms = 30000;
};

int run_durable_broker(const BrokerOptions& o, const std::vector<kafka::TopicSpec>& extra) {
  broker::BrokerConfig config;
  config.data_dir = o.data_dir;
  config.server.host = o.host;
  config.server.advertised_host = o.advertised_host;
  config.server.port = o.params.port;
  config.server.default_partitions = o.params.partitions;
  config.log = o.log;
  config.retention_check_ms = o.retention_check_ms;
  for (std::string_view t : wire::kPipelineTopics) {
    config.topics.emplace_back(std::string(t), o.params.partitions);
  }
  for (const kafka::TopicSpec& t : extra) config.topics.emplace_back(t.name, t.partitions);
  auto broker = broker::DurableBroker::start(config);
  if (!broker) return report_error("broker", broker.error());
  auto server = start_metrics(o.metrics, [] { return std::string(); });
  if (!server) return report_error("broker", server.error());
  const std::string bootstrap = (*broker)->bootstrap();
  std::printf("kvision broker listening on %s:%d (advertised as %s), data in %s\n", o.host.c_str(),
              (*broker)->port(), bootstrap.c_str(), o.data_dir.c_str());
  for (const std::string& name : (*broker)->store().topic_names()) {
    std::printf("  topic %-24s %d partition(s)\n", name.c_str(),
                (*broker)->store().partition_count(name));
  }
  std::printf(
      "\nConnect with: kvision ingest --brokers %s ...   or   kcat -b %s -L\nStop with Ctrl-C.\n",
      bootstrap.c_str(), bootstrap.c_str());
  std::fflush(stdout);
  const broker::ServerStats& st = (*broker)->stats();
  // One line a minute while there is traffic: requests, bytes and errors since the last one.
  int64_t last_requests = 0;
  int64_t last_in = 0;
  int64_t last_out = 0;
  int64_t last_errors = 0;
  Stopwatch since_report;
  auto report = [&](const char* what) {
    const int64_t requests = st.requests.load();
    const int64_t in = st.bytes_in.load();
    const int64_t out = st.bytes_out.load();
    const int64_t errors = st.errors.load();
    log_info("broker: {} {} requests, {:.1f} MB in, {:.1f} MB out, {} errors; {} connections open",
             what, requests - last_requests, static_cast<double>(in - last_in) / 1e6,
             static_cast<double>(out - last_out) / 1e6, errors - last_errors,
             st.open_connections.load());
    last_requests = requests;
    last_in = in;
    last_out = out;
    last_errors = errors;
    since_report = Stopwatch();
  };
  while (!stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (since_report.elapsed_ms() >= 60000 && st.requests.load() != last_requests)
      report("last minute:");
  }
  last_requests = last_in = last_out = last_errors = 0;
  report("stopping after");
  log_info("broker: requests by API: {}", st.requests_by_api_text());
  return kExitOk;
}

int run_broker(const BrokerOptions& o) {
  kafka::BrokerParams params = o.params;
  for (const std::string& t : o.topics) {
    auto spec = kafka::parse_topic_spec(t);
    if (!spec) return report_error("broker", spec.error());
    params.topics.push_back(*spec);
  }
  if (o.engine == "durable") return run_durable_broker(o, params.topics);
  auto broker = kafka::MockCluster::start(params);
  if (!broker) return report_error("broker", broker.error());
  std::printf("kvision broker listening on %s\n", (*broker)->bootstrap().c_str());
  for (const kafka::TopicSpec& t : (*broker)->topics())
    std::printf("  topic %-24s %d partition(s)\n", t.name.c_str(), t.partitions);
  static_assert(kafka::kMockPartitionBytes == 5 * 1024 * 1024, "update the warning below");
  const char* lines[] = {
      "WARNING: this broker is librdkafka's in-memory mock cluster.",
      "It keeps only 5 MiB per partition and silently drops older records,",
      "and everything is lost when it stops. Use a real Kafka cluster",
      "(--brokers host:9092 on every command) for anything you need to keep.",
  };
  std::printf("\n");
  for (const char* l : lines) std::printf("  *** %-70s ***\n", l);
  std::printf(
      "\nConnect with: kvision ingest --brokers %s ...   or   kcat -b %s -L\nStop with Ctrl-C.\n",
      (*broker)->bootstrap().c_str(), (*broker)->bootstrap().c_str());
  std::fflush(stdout);
  while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::printf("kvision broker: stopping\n");
  return kExitOk;
}

}  // namespace

void add_broker_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<BrokerOptions>();
  CLI::App* cmd = app.add_subcommand(
      "broker",
      "Run the embedded Kafka-protocol broker: durable on disk by default, on 127.0.0.1:9092");
  cmd->add_option("--port,-p", o->params.port, "TCP port (0 picks a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--partitions", o->params.partitions, "Partitions of kvision's topics")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--topic", o->topics, "Extra topic NAME[:PARTITIONS] to create (repeatable)");
  add_metrics_option(cmd, o->metrics);
  cmd->add_option("--engine", o->engine,
                  "durable: kvision's own broker, logs on disk under --data-dir; mock: "
                  "librdkafka's in-memory mock cluster (5 MiB per partition, nothing kept), "
                  "for its fault injection")
      ->capture_default_str()
      ->check(CLI::IsMember({"mock", "durable"}));
  cmd->add_option("--data-dir", o->data_dir, "Where the durable engine keeps logs and offsets")
      ->capture_default_str();
  cmd->add_option("--host", o->host,
                  "IPv4 address to listen on (durable engine; 0.0.0.0 for every interface)")
      ->capture_default_str();
  cmd->add_option("--advertised-host", o->advertised_host,
                  "Host name clients are told to connect to (default: --host, or this "
                  "machine's name with 0.0.0.0)");
  cmd->add_option("--retention-ms", o->log.retention_ms,
                  "Default time retention per partition (-1: forever); topics may override "
                  "it with retention.ms")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{-1}, INT64_MAX));
  cmd->add_option("--retention-bytes", o->log.retention_bytes,
                  "Default size retention per partition (-1: unlimited); topics may override "
                  "it with retention.bytes")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{-1}, INT64_MAX));
  cmd->add_option("--segment-bytes", o->log.segment_bytes,
                  "Segment file size; retention deletes whole segments")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1024}, INT64_MAX));
  cmd->add_option("--flush-ms", o->log.flush_interval_ms,
                  "fdatasync logs and committed offsets at least this often (0: before every "
                  "acknowledgement). Both are written before they are acknowledged, so a broker "
                  "crash loses none at "
                  "any setting; this bounds what a power loss can")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_option("--retention-check-ms", o->retention_check_ms,
                  "How often retention and compaction (topics with cleanup.policy=compact) run")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  cmd->callback([o, &action] { action = [o] { return run_broker(*o); }; });
}

}  // namespace kv::app
