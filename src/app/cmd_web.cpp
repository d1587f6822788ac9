// kvision web: the live view. Reads the newest frames of processed_images and the alerts topic
// (every partition, from the tail: a viewer, not a group member that takes work), and the
// groups' lag through the same Kafka APIs as `kvision status`; serves the page, a JSON API,
// server-sent events, and the stored-detection query when --db is given.
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "kafka/cluster_status.h"
#include "kafka/consumer.h"
#include "kafka/record.h"
#include "metrics/stage_metrics.h"
#include "pipeline/sink.h"
#include "store/detection_store.h"
#include "store/query_text.h"
#include "web/assets.h"
#include "web/live_state.h"
#include "wire/detection_record.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct WebOptions {
  KafkaOptions kafka;
  std::string listen = "127.0.0.1:8080";
  std::string topic = std::string(wire::kProcessedTopic);
  std::string alerts_topic = std::string(wire::kAlertsTopic);
  std::string db;
  int tail = 5;
  double status_interval_s = 2;
  std::string metrics;
};

// Assigns every partition of the topics, from `tail` records before the end; topics that do
// not exist yet are picked up on a later call.
class TailAssigner {
 public:
  TailAssigner(rd_kafka_t* rk, std::vector<std::pair<std::string, int>> topics)
      : rk_(rk), topics_(std::move(topics)) {}

  // Returns how many partitions of the first topic are assigned.
  int refresh() {
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk_, 1, nullptr, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return first_;
    rd_kafka_topic_partition_list_t* add = rd_kafka_topic_partition_list_new(8);
    for (int t = 0; t < md->topic_cnt; ++t) {
      const rd_kafka_metadata_topic_t& topic = md->topics[t];
      for (const auto& [name, tail] : topics_) {
        if (name != topic.topic || topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        for (int p = 0; p < topic.partition_cnt; ++p) {
          if (!assigned_.insert({name, topic.partitions[p].id}).second) continue;
          rd_kafka_topic_partition_list_add(add, name.c_str(), topic.partitions[p].id)->offset =
              RD_KAFKA_OFFSET_TAIL(tail);
          if (name == topics_[0].first) ++first_;
        }
      }
    }
    rd_kafka_metadata_destroy(md);
    if (add->cnt > 0) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_, add)) {
        log_warn("web: cannot assign partitions: {}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      } else {
        log_info("web: reading {} more partition(s) from their tail", add->cnt);
      }
    }
    rd_kafka_topic_partition_list_destroy(add);
    return first_;
  }

 private:
  rd_kafka_t* rk_;
  std::vector<std::pair<std::string, int>> topics_;
  std::set<std::pair<std::string, int32_t>> assigned_;
  int first_ = 0;
};

// The groups' health as JSON for the page: lag, members and verdict per group.
std::string status_json(const kafka::ClusterReport& report) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& [g, h] : report.groups) {
    if (g->group.rfind("kvision-web", 0) == 0) continue;  // viewers, not workers
    groups.push_back({{"group", g->group},
                      {"state", g->state},
                      {"members", g->members.size()},
                      {"lag", g->total_lag},
                      {"committed_per_s", std::round(h.committed_per_s * 10) / 10},
                      {"verdict", kafka::verdict_name(h.verdict)},
                      {"reason", h.reason}});
  }
  return json_line({{"groups", std::move(groups)}, {"time", format_wall_time(wall_now_us())}});
}

// {"error": why}
std::string error_json(const std::string& why) {
  return json_line({{"error", why}});
}

// An alert record as the page gets it: a JSON object with the fields it shows, re-serialised
// (one line, valid UTF-8); nullopt for anything else.
std::optional<std::string> checked_alert(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("rule") || !j["rule"].is_string() || !j.contains("camera") ||
      !j["camera"].is_string() || !j.contains("time") || !j["time"].is_string() ||
      !j.contains("frame") || !j["frame"].is_object() || !j.contains("detections") ||
      !j["detections"].is_array()) {
    return std::nullopt;
  }
  return json_line(j);
}

class WebApp {
 public:
  WebApp(web::LiveState& state, store::DetectionStore* db) : state_(state), db_(db) {}

  void handle(const http::Request& req, http::Responder& out) {
    const std::string& p = req.path;
    const std::string json = "application/json";
    if (p == "/" || p == "/index.html")
      return send_asset(out, "index.html", "text/html; charset=utf-8");
    if (p == "/app.js") return send_asset(out, "app.js", "text/javascript; charset=utf-8");
    if (p == "/app.css") return send_asset(out, "app.css", "text/css; charset=utf-8");
    if (p == "/favicon.svg" || p == "/favicon.ico")
      return send_asset(out, "favicon.svg", "image/svg+xml");
    if (p == "/healthz") return (void)out.send(200, "text/plain", "ok\n");
    if (p == "/api/cameras") return (void)out.send(200, json, state_.cameras_json());
    if (p == "/api/alerts") return (void)out.send(200, json, state_.alerts_json());
    if (p == "/api/status") return (void)out.send(200, json, state_.status_json());
    if (p == "/api/events") return stream(req, out);
    if (p == "/api/query") return query(req, out);
    // /api/cameras/NAME/history, /api/cameras/NAME/latest.jpg, /api/cameras/NAME/frames/SEQ.jpg:
    // split before decoding, so that a camera name may hold an encoded '/'.
    const std::vector<std::string>& seg = req.segments;
    if (seg.size() >= 4 && seg[0] == "api" && seg[1] == "cameras") {
      const std::string& camera = seg[2];
      if (seg.size() == 4 && seg[3] == "history") {
        auto h = state_.history_json(camera);
        return (void)(h ? out.send(200, json, *h) : not_found(out, "no camera '" + camera + "'"));
      }
      int64_t seq = -2;
      if (seg.size() == 4 && seg[3] == "latest.jpg") seq = -1;
      if (seg.size() == 5 && seg[3] == "frames" && seg[4].ends_with(".jpg")) {
        const std::string n = seg[4].substr(0, seg[4].size() - 4);
        auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), seq);
        if (ec != std::errc() || ptr != n.data() + n.size() || seq < 0) seq = -2;
      }
      if (seq >= -1) {
        auto jpeg = state_.jpeg(camera, seq);
        return (void)(jpeg ? out.send(200, "image/jpeg", *jpeg, "Cache-Control: max-age=60\r\n")
                           : not_found(out, "frame no longer kept"));
      }
    }
    not_found(out,
              "try /, /api/cameras, /api/cameras/NAME/history, /api/alerts, /api/status, "
              "/api/events, /api/query");
  }

 private:
  void send_asset(http::Responder& out, const char* name, const char* type) {
    auto data = web::asset(name);
    out.send(200, type, std::string(*data), "Cache-Control: no-cache\r\n");
  }
  bool not_found(http::Responder& out, const std::string& why) {
    return out.send(404, "application/json", error_json(why));
  }

  // Server-sent events: frame, alert and status events as they happen. A browser that
  // reconnects sends the last id it saw (Last-Event-ID) and gets what it missed, as far as the
  // events are still kept; an id from before a restart of the server starts from now.
  void stream(const http::Request& req, http::Responder& out) {
    if (!out.start_stream("text/event-stream") || !out.write("retry: 2000\n\n")) return;
    int64_t last = state_.last_event_id();
    if (auto it = req.headers.find("last-event-id"); it != req.headers.end()) {
      int64_t seen = -1;
      const std::string& v = it->second;
      if (std::from_chars(v.data(), v.data() + v.size(), seen).ec == std::errc() && seen >= 0)
        last = std::min(seen, last);
    }
    int64_t quiet_us = mono_now_us();
    while (!stopping_.load()) {
      std::string chunk;
      for (const web::Event& e : state_.events_after(last, 1000)) {
        chunk += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.type, e.json);
        last = e.id;
      }
      if (chunk.empty() && mono_now_us() - quiet_us > 15'000'000) chunk = ": keep-alive\n\n";
      if (chunk.empty()) continue;
      quiet_us = mono_now_us();
      if (!out.write(chunk)) return;  // the viewer went away
    }
  }

  void query(const http::Request& req, http::Responder& out) {
    if (db_ == nullptr) {
      out.send(
          404, "application/json",
          error_json("no database: start kvision web with --db, the file kvision store writes"));
      return;
    }
    std::map<std::string, std::string> params = req.query;
    const std::string format = params.count("format") ? params["format"] : "json";
    params.erase("format");
    auto q = store::query_from_params(params);
    if (!q) {
      out.send(400, "application/json", error_json(q.error().message));
      return;
    }
    Result<std::vector<store::StoredDetection>> rows = [&] {
      std::lock_guard lock(db_mutex_);
      return db_->query(*q);
    }();
    if (!rows) {
      out.send(500, "application/json", error_json(rows.error().message));
      return;
    }
    std::string body = format == "jsonl" ? "" : "[";
    for (const store::StoredDetection& d : *rows) {
      if (format == "jsonl") {
        body += store::stored_detection_json(d) + "\n";
      } else {
        if (body.size() > 1) body += ",";
        body += store::stored_detection_json(d);
      }
    }
    if (format != "jsonl") body += "]";
    out.send(200, format == "jsonl" ? "application/x-ndjson" : "application/json", body);
  }

 public:
  std::atomic<bool> stopping_{false};

 private:
  web::LiveState& state_;
  store::DetectionStore* db_;
  std::mutex db_mutex_;
};

int run_web(const WebOptions& o) {
  auto config = reach_kafka(o.kafka);
  if (!config) return report_error("web", config.error());
  std::unique_ptr<store::DetectionStore> db;
  if (!o.db.empty()) {
    auto opened = store::DetectionStore::open(o.db);
    if (!opened) return report_error("web", opened.error());
    db = std::move(*opened);
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string group = fmt::format("kvision-web-{}-{}", host, ::getpid());
  auto consumer = kafka::Consumer::create(*config, group, {{"enable.auto.commit", "false"}});
  if (!consumer) return report_error("web", consumer.error());
  auto status_reader = kafka::StatusReader::create(*config);
  if (!status_reader) return report_error("web", status_reader.error());

  web::LiveState state;
  WebApp app(state, db.get());
  auto server = http::Server::start(
      o.listen, [&app](const http::Request& r, http::Responder& out) { app.handle(r, out); });
  if (!server) return report_error("web", server.error());
  std::atomic<int> assigned{0};
  auto metrics_server = start_metrics(o.metrics, [&assigned]() -> std::string {
    return assigned.load() > 0 ? "" : "no frame partitions assigned yet";
  });
  if (!metrics_server) return report_error("web", metrics_server.error());
  metrics::build_info("web", "");
  metrics::FrameCounter frame_metrics("web");
  std::printf("kvision web: open http://%s:%d/ (live view of %s)\n", (*server)->host().c_str(),
              (*server)->port(), o.topic.c_str());
  std::fflush(stdout);

  std::stop_source stop;
  SignalBridge bridge(stop);
  // Health: two snapshots apart, judged like `kvision status`.
  std::jthread status_thread([&](std::stop_token) {
    std::optional<kafka::ClusterSnapshot> before;
    while (!stop.stop_requested()) {
      auto snap = (*status_reader)->snapshot({}, 5000);
      if (snap) {
        // A verdict needs two snapshots: the first only sets the baseline.
        if (before) state.set_status(status_json(kafka::judge_groups(*before, *snap)));
        before = std::move(*snap);
      } else {
        log_warn("web: cannot read the groups' status: {}", snap.error().message);
      }
      for (int i = 0; i < o.status_interval_s * 10 && !stop.stop_requested(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  TailAssigner assigner((*consumer)->handle(), {{o.topic, o.tail}, {o.alerts_topic, 50}});
  int64_t last_refresh_us = 0;
  int64_t bad = 0;
  Status status;
  while (!stop.stop_requested()) {
    if (mono_now_us() - last_refresh_us > 5'000'000) {  // topics and partitions created later
      assigned = assigner.refresh();
      last_refresh_us = mono_now_us();
    }
    auto msg = (*consumer)->poll(200);
    if (!msg) {
      status = msg.error();
      break;
    }
    if (!*msg) continue;
    const rd_kafka_message_t* m = msg->get();
    const int64_t now = wall_now_us();
    if (kafka::message_topic(m) == o.alerts_topic) {
      auto alert = checked_alert({static_cast<const char*>(m->payload), m->len});
      if (alert) {
        state.add_alert(*alert, now);
      } else {
        ++bad;
        log_warn("web: {}[{}]@{} is not an alert record; not shown", o.alerts_topic, m->partition,
                 m->offset);
      }
      continue;
    }
    auto rec = pipeline::detection_record(m);
    if (!rec) {
      ++bad;
      log_warn("web: skipping {}[{}]@{}: {}", kafka::message_topic(m), m->partition, m->offset,
               rec.error().message);
      continue;
    }
    frame_metrics.count(rec->frame.camera, m->len);
    state.add_frame(*rec, std::string(static_cast<const char*>(m->payload), m->len), now);
  }
  app.stopping_ = true;
  stop.request_stop();
  (*server)->stop();
  status_thread.join();
  (*consumer)->close();
  log_info("web: {} camera(s) shown, {} bad records skipped", state.camera_count(), bad);
  if (!status) return report_error("web", status.error());
  return kExitOk;
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
  cmd->add_option("--status-interval", o->status_interval_s, "Seconds between health checks")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 600.0));
  cmd->callback([o, &action] { action = [o] { return run_web(*o); }; });
}

}  // namespace kv::app
