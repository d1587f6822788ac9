// kvision web: wiring for the live view (web::WebApp serving, web::WebStage reading the newest
// frames and alerts from every partition's tail, web::watch_health judging the groups).
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "app/cli.h"
#include "common/http.h"
#include "common/log.h"
#include "kafka/cluster_status.h"
#include "kafka/partition_reader.h"
#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"
#include "store/detection_store.h"
#include "web/auth.h"
#include "web/live_state.h"
#include "web/web_app.h"
#include "web/web_stage.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct WebOptions {
  KafkaOptions kafka;
  std::string listen = "127.0.0.1:8080";
  std::string topic = std::string(wire::kProcessedTopic);
  std::string alerts_topic = std::string(wire::kAlertsTopic);
  std::string db;
  std::string clips_dir;
  std::string users;
  bool insecure_no_auth = false;
  std::string tls_cert;
  std::string tls_key;
  double session_hours = 12;
  int max_connections = 64;
  int tail = 5;
  double status_interval_s = 2;
  MetricsOptions metrics;
};

int run_web(const WebOptions& o) {
  // Who may look: users from --users; none only on loopback, or when told so explicitly.
  auto address = http::parse_listen_address(o.listen);
  if (!address) return report_error("web", address.error());
  std::unique_ptr<web::Auth> auth;
  if (!o.users.empty()) {
    auto users = web::UserFile::load(o.users);
    if (!users) return report_error("web", users.error());
    if (users->empty()) {
      return report_error("web", make_error(ErrorCode::kInvalidArgument,
                                            fmt::format("--users {} has no users: add one with "
                                                        "`kvision web user add NAME --users {}`",
                                                        o.users, o.users)));
    }
    auth = std::make_unique<web::Auth>(
        std::move(*users), std::chrono::seconds(static_cast<int64_t>(o.session_hours * 3600)));
  } else if (!http::is_loopback(address->first) && !o.insecure_no_auth) {
    return report_error(
        "web",
        make_error(ErrorCode::kInvalidArgument,
                   fmt::format("listening on {} without users would show every camera to anyone "
                               "who can reach it. Add a user with `kvision web user add NAME "
                               "--users web-users` and pass --users web-users (and --tls-cert/"
                               "--tls-key for HTTPS), or pass --insecure-no-auth if something "
                               "in front of kvision web already does this",
                               o.listen)));
  }
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("web", config.error());
  std::unique_ptr<store::DetectionStore> db;
  if (!o.db.empty()) {
    auto opened = store::DetectionStore::open(o.db);
    if (!opened) return report_error("web", opened.error());
    db = std::move(*opened);
  }
  auto reader = kafka::PartitionReader::create(*config, {.name = "web"});
  if (!reader) return report_error("web", reader.error());
  (*reader)->follow(o.topic, kafka::PartitionStart::tail(o.tail));
  (*reader)->follow(o.alerts_topic, kafka::PartitionStart::tail(50));
  auto status_reader = kafka::StatusReader::create(*config);
  if (!status_reader) return report_error("web", status_reader.error());

  web::LiveState state;
  web::WebApp app(state, db.get(), o.clips_dir, auth.get());
  http::ServerOptions server_options;
  server_options.max_connections = o.max_connections;
  server_options.tls_cert = o.tls_cert;
  server_options.tls_key = o.tls_key;
  auto server = http::Server::start(
      o.listen, [&app](const http::Request& r, http::Responder& out) { app.handle(r, out); },
      server_options);
  if (!server) return report_error("web", server.error());
  const kafka::PartitionReader& frames = **reader;
  auto metrics_server = start_metrics(o.metrics, [&frames]() -> std::string {
    return frames.followed_partitions() > 0 ? "" : "no frame partitions assigned yet";
  });
  if (!metrics_server) return report_error("web", metrics_server.error());
  metrics::build_info("web", "");
  std::printf("kvision web: open %s://%s:%d/ (live view of %s%s)\n",
              (*server)->tls() ? "https" : "http", (*server)->host().c_str(), (*server)->port(),
              o.topic.c_str(),
              auth ? fmt::format("; {} user(s) may log in", auth->users.names().size()).c_str()
                   : "; no login");
  std::fflush(stdout);

  std::stop_source stop;
  SignalBridge bridge(stop);
  std::jthread health([&](std::stop_token) {
    web::watch_health(**status_reader, state, o.status_interval_s, stop.get_token());
  });
  web::WebStage stage(state, o.alerts_topic);
  auto run =
      pipeline::run_subscriber(**reader, stage, {.stage = "web", .poll_ms = 200}, stop.get_token());
  app.stop();
  stop.request_stop();
  (*server)->stop();
  health.join();
  log_info("web: {} camera(s) shown, {} bad records skipped", state.camera_count(),
           run ? run->bad_records : 0);
  if (!run) return report_error("web", run.error());
  return kExitOk;
}

// kvision web user add|remove|list: the users file.
struct UserOptions {
  std::string users = "web-users";
  std::string name;
  bool password_stdin = false;
};

Result<std::string> read_password(const UserOptions& o) {
  std::string password;
  if (!o.password_stdin && ::isatty(STDIN_FILENO)) {
    termios old{};
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    std::fprintf(stderr, "password for %s: ", o.name.c_str());
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, password);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  } else {
    std::getline(std::cin, password);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

int run_user(const std::string& what, const UserOptions& o) {
  auto users = web::UserFile::load(o.users, what == "add");
  if (!users) return report_error("web user", users.error());
  if (what == "list") {
    for (const std::string& n : users->names()) std::printf("%s\n", n.c_str());
    return kExitOk;
  }
  if (what == "add") {
    auto password = read_password(o);
    if (!password) return report_error("web user", password.error());
    if (Status s = users->set(o.name, *password); !s) return report_error("web user", s.error());
  } else if (Status s = users->remove(o.name); !s) {
    return report_error("web user", s.error());
  }
  if (Status s = users->save(o.users); !s) return report_error("web user", s.error());
  std::printf("%s: user %s %s\n", o.users.c_str(), o.name.c_str(),
              what == "add" ? "set" : "removed");
  return kExitOk;
}

void add_user_commands(CLI::App* web, Action& action) {
  CLI::App* user = web->add_subcommand("user", "Manage who may log in to kvision web");
  user->require_subcommand(1);
  for (const char* what : {"add", "remove", "list"}) {
    auto o = std::make_shared<UserOptions>();
    CLI::App* cmd = user->add_subcommand(what, std::string(what) == "add"
                                                   ? "Add a user, or set a user's password"
                                               : std::string(what) == "remove" ? "Remove a user"
                                                                               : "List the users");
    cmd->add_option("--users", o->users, "The users file (Argon2id hashes, mode 0600)")
        ->capture_default_str();
    if (std::string(what) != "list") cmd->add_option("name", o->name, "User name")->required();
    if (std::string(what) == "add") {
      cmd->add_flag("--password-stdin", o->password_stdin,
                    "Read the password from standard input (one line) instead of asking");
    }
    cmd->callback(
        [o, &action, w = std::string(what)] { action = [o, w] { return run_user(w, *o); }; });
  }
}

}  // namespace

void add_web_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<WebOptions>();
  CLI::App* cmd = app.add_subcommand(
      "web",
      "Live view in the browser: every camera's newest frame with its boxes, counts, fps, "
      "latency, lag and alerts; JSON API and stored-detection search (--db)");
  add_kafka_options(cmd, o->kafka);
  add_metrics_option(cmd, o->metrics);
  cmd->add_option("--listen,-l", o->listen,
                  "HOST:PORT to serve on (loopback unless a host is given; 0.0.0.0 for all)")
      ->capture_default_str();
  cmd->add_option("--topic", o->topic, "Frames with their detections")->capture_default_str();
  cmd->add_option("--alerts-topic", o->alerts_topic, "Alerts to list")->capture_default_str();
  cmd->add_option("--db", o->db, "Database written by kvision store, for /api/query");
  cmd->add_option("--clips-dir", o->clips_dir,
                  "Directory of alert clips (kvision alert --clips-dir), played in the alert list");
  cmd->add_option("--status-interval", o->status_interval_s, "Seconds between health checks")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 600.0));
  cmd->add_option("--users", o->users,
                  "Users file (kvision web user add NAME --users FILE): every page, API, stream, "
                  "frame and clip then needs a login. Required to listen beyond loopback");
  cmd->add_flag("--insecure-no-auth", o->insecure_no_auth,
                "Listen beyond loopback with no login (only behind something that does it)");
  cmd->add_option("--tls-cert", o->tls_cert, "PEM certificate chain: serve HTTPS (with --tls-key)");
  cmd->add_option("--tls-key", o->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--session-hours", o->session_hours, "How long a login lasts")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 24.0 * 30));
  cmd->add_option("--max-connections", o->max_connections,
                  "Connections served at once; more are answered 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  add_user_commands(cmd, action);
  cmd->callback([o, cmd, &action] {
    if (cmd->got_subcommand("user")) return;  // kvision web user ...: its own action
    action = [o] { return run_web(*o); };
  });
}

}  // namespace kv::app
