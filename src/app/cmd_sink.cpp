// kvision sink: print or append one JSON line per result.
#include <memory>

#include "app/cli.h"
#include "common/log.h"
#include "pipeline/sink.h"

namespace kv::app {
namespace {

struct SinkOptions {
  KafkaOptions kafka;
  MetricsOptions metrics;
  pipeline::SinkParams params;
  std::string format = "jsonl";
};

int run_sink_command(SinkOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("sink", config.error());
  o.params.kafka = *config;
  auto assigned = std::make_shared<std::atomic<bool>>(false);
  o.params.on_assigned = [assigned] { *assigned = true; };
  auto server = start_metrics(o.metrics, [assigned]() -> std::string {
    return assigned->load() ? "" : "no partitions assigned yet";
  });
  if (!server) return report_error("sink", server.error());
  std::stop_source stop;
  SignalBridge bridge(stop);
  auto stats = pipeline::run_sink(o.params, stop.get_token());
  if (!stats) return report_error("sink", stats.error());
  log_info("sink: {} records written, {} bad records skipped", stats->records, stats->bad_records);
  return kExitOk;
}

}  // namespace

void add_sink_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<SinkOptions>();
  CLI::App* cmd =
      app.add_subcommand("sink", "Write one JSON line per detection result (stdout or a file)");
  add_kafka_options(cmd, o->kafka);
  add_metrics_option(cmd, o->metrics);
  auto& p = o->params;
  cmd->add_option("--topic", p.topic,
                  "detections, or processed_images (results read from its header)")
      ->capture_default_str();
  cmd->add_option("--format", o->format, "Output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"jsonl"}));
  cmd->add_option("--output,-o", p.output, "Append to this file instead of stdout");
  cmd->add_option("--group,-g", p.group, "Consumer group")->capture_default_str();
  cmd->add_option("--max-records,-n", p.max_records,
                  "Exit after this many records (0: run until stopped)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([o, &action] { action = [o] { return run_sink_command(*o); }; });
}

}  // namespace kv::app
