// The live view's HTTP surface: the page and its assets, the JSON API, server-sent events,
// frames, and the stored-detection query.
#pragma once

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/http.h"
#include "kafka/cluster_status.h"
#include "store/detection_store.h"
#include "web/auth.h"
#include "web/live_state.h"

namespace kv::web {

// Thread-safety: handle() from the HTTP server's threads.
class WebApp {
 public:
  // `db` may be null (no /api/query); `clips_dir` may be empty (no /clips/); `auth` may be
  // null: no login (kvision web refuses that unless it listens on loopback or is told so).
  WebApp(LiveState& state, store::DetectionStore* db, std::filesystem::path clips_dir = {},
         Auth* auth = nullptr)
      : state_(state), db_(db), clips_dir_(std::move(clips_dir)), auth_(auth) {}

  void handle(const http::Request& req, http::Responder& out);
  // Ends the event streams (before the server stops).
  void stop() { stopping_ = true; }

 private:
  void send_asset(http::Responder& out, const char* name, const char* type);
  bool not_found(http::Responder& out, const std::string& why);
  void stream(const http::Request& req, http::Responder& out);
  // The login page (with one of a few fixed messages), the login form's POST, the logout.
  void login_page(http::Responder& out, int status, const std::string& message,
                  const std::string& extra_headers = "");
  void login(const http::Request& req, http::Responder& out);
  void logout(const http::Request& req, http::Responder& out);
  // The session's token from the request's cookie, if it names a live session.
  std::optional<std::string> session_token(const http::Request& req) const;
  // /api/query (detections), or /api/tracks (per-track summaries) with `tracks`.
  void query(const http::Request& req, http::Responder& out, bool tracks = false);
  // /clips/NAME.mp4: an alert's clip from clips_dir_ (a plain file name only).
  void clip(const std::string& name, http::Responder& out);

  std::atomic<bool> stopping_{false};
  LiveState& state_;
  store::DetectionStore* db_;
  std::mutex db_mutex_;
  const std::filesystem::path clips_dir_;
  Auth* auth_;
};

// The groups' health as JSON for the page: lag, members and verdict per group.
std::string status_json(const kafka::ClusterReport& report,
                        const std::vector<kafka::CameraHealthStatus>& cameras = {});

// An alert record as the page gets it: a JSON object with the fields it shows, re-serialised
// (one line, valid UTF-8); nullopt for anything else.
std::optional<std::string> checked_alert(std::string_view text);

}  // namespace kv::web
