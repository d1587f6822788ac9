// kvision broker: the embedded Kafka-protocol broker, until SIGINT/SIGTERM.
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "app/cli.h"
#include "common/stop.h"
#include "kafka/embedded_broker.h"

namespace kv::app {
namespace {

struct BrokerOptions {
  kafka::BrokerParams params;
  std::vector<std::string> topics;
};

int run_broker(const BrokerOptions& o) {
  kafka::BrokerParams params = o.params;
  for (const std::string& t : o.topics) {
    auto spec = kafka::parse_topic_spec(t);
    if (!spec) return report_error("broker", spec.error());
    params.topics.push_back(*spec);
  }
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
  cmd->callback([o, &action] { action = [o] { return run_broker(*o); }; });
}

}  // namespace kv::app
