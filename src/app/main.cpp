// kvision: real-time video analytics on Apache Kafka. This file only dispatches.
#include <cstdlib>
#include <string>

#include "app/cli.h"
#include "common/log.h"
#include "common/stop.h"

int main(int argc, char** argv) {
  CLI::App app{
      "kvision: real-time video analytics on Apache Kafka.\n"
      "Cameras and files -> ingest -> raw_video_frames -> detect -> processed_images/detections -> "
      "sinks.\n"
      "Try: kvision run --source video.avi"};
  app.set_version_flag("--version", std::string(KV_VERSION));
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log debug detail");

  kv::app::Action action;
  kv::app::add_broker_command(app, action);
  kv::app::add_ingest_command(app, action);
  kv::app::add_detect_command(app, action);
  kv::app::add_sink_command(app, action);
  kv::app::add_run_command(app, action);
  kv::app::add_eval_command(app, action);
  kv::app::add_bench_command(app, action);
  kv::app::add_audit_command(app, action);
  kv::app::add_clip_command(app, action);
  kv::app::add_diff_command(app, action);
  kv::app::add_replay_command(app, action);
  kv::app::add_status_command(app, action);
  kv::app::add_store_command(app, action);
  kv::app::add_alert_command(app, action);
  kv::app::add_web_command(app, action);
  for (CLI::App* sub : app.get_subcommands({})) sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kv::app::kExitOk : kv::app::kExitUsage;
  }
  if (verbose) kv::set_log_level(kv::LogLevel::kDebug);
  kv::install_stop_handlers();
  return action ? action() : kv::app::kExitUsage;
}
