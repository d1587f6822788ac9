// kvision broker: the embedded Kafka-protocol broker, until SIGINT/SIGTERM.
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "app/cli.h"
#include "broker/server.h"
#include "broker/topic_store.h"
#include "common/clock.h"
#include "common/stop.h"
#include "kafka/embedded_broker.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct BrokerOptions {
  kafka::BrokerParams params;
  std::vector<std::string> topics;
  std::string engine = "mock";
  std::string data_dir = "kvision-data";
};

// The durable engine (work in progress, issue 3): segment files on disk, consumer groups and
// committed offsets; no idempotent-producer deduplication or transactions yet.
int run_durable_broker(const BrokerOptions& o, const std::vector<kafka::TopicSpec>& extra) {
  auto store = broker::TopicStore::open(o.data_dir, broker::LogConfig{});
  if (!store) return report_error("broker", store.error());
  std::vector<kafka::TopicSpec> topics;
  for (std::string_view t :
       {wire::kRawFramesTopic, wire::kProcessedTopic, wire::kDetectionsTopic}) {
    topics.push_back({std::string(t), o.params.partitions});
  }
  topics.insert(topics.end(), extra.begin(), extra.end());
  for (kafka::TopicSpec t : topics) {
    if ((*store)->partition_count(t.name) > 0) continue;
    if (Status s =
            (*store)->create_topic(t.name, t.partitions > 0 ? t.partitions : o.params.partitions);
        !s) {
      return report_error("broker", s.error());
    }
  }
  broker::ServerParams sp;
  sp.port = o.params.port;
  sp.default_partitions = o.params.partitions;
  auto groups = broker::GroupCoordinator::open(o.data_dir);
  if (!groups) return report_error("broker", groups.error());
  auto server = broker::BrokerServer::start(sp, **store, **groups);
  if (!server) return report_error("broker", server.error());
  std::printf("kvision broker (durable engine, data in %s) listening on 127.0.0.1:%d\n",
              o.data_dir.c_str(), (*server)->port());
  std::printf(
      "  experimental: no idempotent-producer deduplication or transactions yet; the mock "
      "engine stays the default\n");
  std::fflush(stdout);
  int64_t last_retention_ms = 0;
  while (!stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int64_t now_ms = wall_now_us() / 1000;
    if (now_ms - last_retention_ms > 30000) {
      last_retention_ms = now_ms;
      (*store)->enforce_retention(now_ms);
    }
  }
  const broker::ServerStats& st = (*server)->stats();
  std::printf("kvision broker: stopping after %lld requests (%lld errors)\n",
              static_cast<long long>(st.requests.load()), static_cast<long long>(st.errors.load()));
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
  auto broker = kafka::EmbeddedBroker::start(params);
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
      "broker", "Run the embedded Kafka-protocol broker on 127.0.0.1 (in memory)");
  cmd->add_option("--port,-p", o->params.port, "TCP port on 127.0.0.1 (0 picks a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--partitions", o->params.partitions, "Partitions of kvision's topics")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--topic", o->topics, "Extra topic NAME[:PARTITIONS] to create (repeatable)");
  cmd->add_option(
         "--engine", o->engine,
         "mock: librdkafka's in-memory mock cluster; durable: kvision's own on-disk broker "
         "(experimental)")
      ->capture_default_str()
      ->check(CLI::IsMember({"mock", "durable"}));
  cmd->add_option("--data-dir", o->data_dir, "Where the durable engine keeps its logs")
      ->capture_default_str();
  cmd->callback([o, &action] { action = [o] { return run_broker(*o); }; });
}

}  // namespace kv::app
