#include "web/web_app.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "store/query_text.h"
#include "web/assets.h"
#include "wire/camera_health.h"

namespace kv::web {
namespace {

// {"error": why}
std::string error_json(const std::string& why) {
  return json_line({{"error", why}});
}

}  // namespace

std::string status_json(const kafka::ClusterReport& report,
                        const std::vector<kafka::CameraHealthStatus>& cameras) {
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
  nlohmann::json health = nlohmann::json::array();
  for (const auto& c : cameras) {
    const auto& h = c.health;
    health.push_back(
        {{"camera", h.camera},
         {"state", c.silent ? "SILENT" : std::string(wire::camera_state_name(h.state))},
         {"reason", h.reason},
         {"since_us", h.since_us},
         {"last_frame_us", h.last_frame_us},
         {"reconnects", h.reconnects}});
  }
  return json_line({{"groups", std::move(groups)},
                    {"cameras", std::move(health)},
                    {"time", format_wall_time(wall_now_us())}});
}

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

void WebApp::handle(const http::Request& req, http::Responder& out) {
  const std::string& p = req.path;
  const std::string json = "application/json";
  // Open to anyone: the login page and what it needs, and the health check.
  if (p == "/login") {
    if (req.method == "POST") return login(req, out);
    if (auth_ == nullptr) return (void)out.send(303, "text/plain", "", "Location: /\r\n");
    return login_page(out, 200, "");
  }
  if (p == "/logout" && req.method == "POST") return logout(req, out);
  if (p == "/app.css") return send_asset(out, "app.css", "text/css; charset=utf-8");
  if (p == "/favicon.svg" || p == "/favicon.ico")
    return send_asset(out, "favicon.svg", "image/svg+xml");
  if (p == "/healthz") return (void)out.send(200, "text/plain", "ok\n");
  if (req.method == "POST") return (void)out.send(405, json, error_json("GET only here"));
  // Everything else needs a session when there are users.
  std::optional<std::string> user;
  if (auth_ != nullptr) {
    auto token = session_token(req);
    if (token) user = auth_->sessions.user_of(*token);
    if (!user) {
      if (p == "/" || p == "/index.html")
        return (void)out.send(303, "text/plain", "", "Location: /login\r\n");
      return (void)out.send(401, json, error_json("log in first (/login)"));
    }
  }
  if (p == "/" || p == "/index.html")
    return send_asset(out, "index.html", "text/html; charset=utf-8");
  if (p == "/app.js") return send_asset(out, "app.js", "text/javascript; charset=utf-8");
  if (p == "/api/me") {
    return (void)out.send(200, json,
                          json_line({{"auth", auth_ != nullptr},
                                     {"user", user ? nlohmann::json(*user) : nlohmann::json()}}));
  }
  if (p == "/api/cameras") return (void)out.send(200, json, state_.cameras_json());
  if (p == "/api/alerts") return (void)out.send(200, json, state_.alerts_json());
  if (p == "/api/status") return (void)out.send(200, json, state_.status_json());
  if (p == "/api/events") return stream(req, out);
  if (p == "/api/query") return query(req, out);
  if (p == "/api/tracks") return query(req, out, true);
  // /api/cameras/NAME/history, /api/cameras/NAME/latest.jpg, /api/cameras/NAME/frames/SEQ.jpg:
  // split before decoding, so that a camera name may hold an encoded '/'.
  const std::vector<std::string>& seg = req.segments;
  if (seg.size() == 2 && seg[0] == "clips") return clip(seg[1], out);
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
            "/api/events, /api/query, /api/tracks");
}

void WebApp::clip(const std::string& name, http::Responder& out) {
  if (clips_dir_.empty()) {
    return (void)not_found(out,
                           "no clips here: start kvision web with --clips-dir, the "
                           "directory kvision alert writes them to");
  }
  // The names kvision alert gives: letters, digits, '-', '_' and one ".mp4". Nothing else, so
  // no path leads out of the directory.
  const bool plain =
      name.size() > 4 && name.ends_with(".mp4") &&
      std::all_of(name.begin(), name.end() - 4, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
      });
  if (!plain) return (void)out.send(400, "application/json", error_json("not a clip name"));
  std::ifstream in(clips_dir_ / name, std::ios::binary);
  if (!in)
    return (void)not_found(out, "no such clip (yet: it is written once its time has passed)");
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  out.send(200, "video/mp4", body, "Cache-Control: max-age=3600\r\n");
}

namespace {

constexpr const char* kSessionCookie = "kv_session";

// A name for the log: as typed if it is a plain name, else a placeholder (no log injection).
std::string loggable(const std::string& name) {
  const bool plain =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
               c == '@' || c == '-';
      });
  return plain ? "'" + name + "'" : "(not a user name)";
}

}  // namespace

std::optional<std::string> WebApp::session_token(const http::Request& req) const {
  auto cookie = req.headers.find("cookie");
  if (cookie == req.headers.end()) return std::nullopt;
  return http::cookie_value(cookie->second, kSessionCookie);
}

void WebApp::login_page(http::Responder& out, int status, const std::string& message,
                        const std::string& extra_headers) {
  std::string page(*web::asset("login.html"));
  if (!message.empty()) {
    const std::string marker = "<!--message-->";
    page.replace(page.find(marker), marker.size(), "<p class=\"error\">" + message + "</p>");
  }
  out.send(status, "text/html; charset=utf-8", page, "Cache-Control: no-store\r\n" + extra_headers);
}

void WebApp::login(const http::Request& req, http::Responder& out) {
  if (auth_ == nullptr) return (void)out.send(303, "text/plain", "", "Location: /\r\n");
  const auto fields = http::form_fields(req.body);
  const auto user_it = fields.find("user");
  const auto pass_it = fields.find("password");
  const std::string user = user_it == fields.end() ? "" : user_it->second;
  const std::string password = pass_it == fields.end() ? "" : pass_it->second;
  if (const int64_t wait = auth_->limiter.wait_seconds(req.peer, user); wait > 0) {
    log_warn("web: login for user {} from {} refused: too many failed logins (next in {} s)",
             loggable(user), req.peer, wait);
    return login_page(out, 429, fmt::format("Too many failed logins: try again in {} s.", wait),
                      fmt::format("Retry-After: {}\r\n", wait));
  }
  if (!auth_->users.verify(user, password)) {
    const int failures = auth_->limiter.failed(req.peer, user);
    log_warn("web: failed login for user {} from {} ({} failure(s) from there in the window)",
             loggable(user), req.peer, failures);
    return login_page(out, 401, "Wrong user name or password.");
  }
  const std::string token = auth_->sessions.create(user);
  log_info("web: user {} logged in from {}", loggable(user), req.peer);
  out.send(
      303, "text/plain", "",
      fmt::format("Location: /\r\nSet-Cookie: {}={}; Path=/; Max-Age={}; HttpOnly; "
                  "SameSite=Strict{}\r\n",
                  kSessionCookie, token, auth_->sessions.ttl().count(), req.tls ? "; Secure" : ""));
}

void WebApp::logout(const http::Request& req, http::Responder& out) {
  if (auth_ != nullptr) {
    if (auto token = session_token(req)) {
      if (auto user = auth_->sessions.user_of(*token))
        log_info("web: user {} logged out from {}", loggable(*user), req.peer);
      auth_->sessions.end(*token);
    }
  }
  out.send(303, "text/plain", "",
           fmt::format("Location: /login\r\nSet-Cookie: {}=; Path=/; Max-Age=0; HttpOnly; "
                       "SameSite=Strict{}\r\n",
                       kSessionCookie, req.tls ? "; Secure" : ""));
}

void WebApp::send_asset(http::Responder& out, const char* name, const char* type) {
  auto data = web::asset(name);
  out.send(200, type, std::string(*data), "Cache-Control: no-cache\r\n");
}
bool WebApp::not_found(http::Responder& out, const std::string& why) {
  return out.send(404, "application/json", error_json(why));
}

// Server-sent events: frame, alert and status events as they happen. A browser that
// reconnects sends the last id it saw (Last-Event-ID) and gets what it missed, as far as the
// events are still kept; an id from before a restart of the server starts from now.
void WebApp::stream(const http::Request& req, http::Responder& out) {
  if (!out.start_stream("text/event-stream") || !out.write("retry: 2000\n\n")) return;
  int64_t last = state_.last_event_id();
  if (auto it = req.headers.find("last-event-id"); it != req.headers.end()) {
    int64_t seen = -1;
    const std::string& v = it->second;
    if (std::from_chars(v.data(), v.data() + v.size(), seen).ec == std::errc() && seen >= 0)
      last = std::min(seen, last);
  }
  int64_t quiet_us = mono_now_us();
  // The stream ends when its session does (a logout, or its expiry).
  const std::optional<std::string> token = auth_ != nullptr ? session_token(req) : std::nullopt;
  while (!stopping_.load()) {
    if (auth_ != nullptr && (!token || !auth_->sessions.user_of(*token))) return;
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

void WebApp::query(const http::Request& req, http::Responder& out, bool tracks) {
  if (db_ == nullptr) {
    out.send(404, "application/json",
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
  std::vector<std::string> lines;
  Status got = [&]() -> Status {
    std::lock_guard lock(db_mutex_);
    if (tracks) {
      auto found = db_->tracks(*q);
      if (!found) return found.error();
      for (const store::TrackSummary& t : *found) lines.push_back(store::track_summary_json(t));
    } else {
      auto found = db_->query(*q);
      if (!found) return found.error();
      for (const store::StoredDetection& d : *found)
        lines.push_back(store::stored_detection_json(d));
    }
    return ok_status();
  }();
  if (!got) {
    out.send(got.error().code == ErrorCode::kInvalidArgument ? 400 : 500, "application/json",
             error_json(got.error().message));
    return;
  }
  std::string body = format == "jsonl" ? "" : "[";
  for (const std::string& line : lines) {
    if (format == "jsonl") {
      body += line + "\n";
    } else {
      if (body.size() > 1) body += ",";
      body += line;
    }
  }
  if (format != "jsonl") body += "]";
  out.send(200, format == "jsonl" ? "application/x-ndjson" : "application/json", body);
}

}  // namespace kv::web
