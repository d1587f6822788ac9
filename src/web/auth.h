// Who may see the cameras: kvision web's users (Argon2id password hashes in a file), their
// sessions (a random token in an HttpOnly, SameSite=Strict cookie), and the limit on failed
// logins. docs/security.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace kv::web {

// The users file: one "name:$argon2id$..." line per user ('#' starts a comment). Written with
// mode 0600, replaced atomically. Not thread-safe: loaded once, then only read.
class UserFile {
 public:
  // A missing file is an empty one when `may_be_missing`.
  static Result<UserFile> load(const std::filesystem::path& path, bool may_be_missing = false);
  // Sets the user's password (adding the user if new): hashed with libsodium's Argon2id at its
  // "interactive" cost (64 MiB, about 0.1-0.3 s). Names: 1-64 of [A-Za-z0-9._@-].
  Status set(const std::string& name, const std::string& password);
  Status remove(const std::string& name);
  Status save(const std::filesystem::path& path) const;
  std::vector<std::string> names() const;
  bool empty() const { return hashes_.empty(); }
  // Whether the password is the user's. An unknown user costs as much as a known one, so the
  // time taken does not tell which names exist.
  bool verify(const std::string& name, const std::string& password) const;

 private:
  std::map<std::string, std::string> hashes_;
};

// Logged-in sessions, in memory: a restart logs everyone out. Thread-safe.
class Sessions {
 public:
  explicit Sessions(std::chrono::seconds ttl) : ttl_(ttl) {}
  // A new session's token: 32 random bytes, hex.
  std::string create(const std::string& user);
  // The user of a live session; an expired one is forgotten.
  std::optional<std::string> user_of(const std::string& token);
  void end(const std::string& token);
  std::chrono::seconds ttl() const { return ttl_; }

 private:
  struct Session {
    std::string user;
    std::chrono::steady_clock::time_point expires;
  };
  const std::chrono::seconds ttl_;
  std::mutex mu_;
  std::map<std::string, Session> sessions_;
};

// Failed logins, per client address and per user name: after `max_failures` within `window`,
// further attempts are refused until the oldest failure leaves the window. Thread-safe.
class LoginLimiter {
 public:
  LoginLimiter(int max_failures = 5, std::chrono::seconds window = std::chrono::minutes(5))
      : max_failures_(max_failures), window_(window) {}
  // 0 if an attempt may be made now, else the seconds until one may.
  int64_t wait_seconds(const std::string& peer, const std::string& user);
  // Records a failure; returns the failures in the window for that address.
  int failed(const std::string& peer, const std::string& user);

 private:
  using Clock = std::chrono::steady_clock;
  int64_t wait_of(std::deque<Clock::time_point>& failures, Clock::time_point now);
  const int max_failures_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  std::map<std::string, std::deque<Clock::time_point>> by_peer_;
  std::map<std::string, std::deque<Clock::time_point>> by_user_;
};

// Everything kvision web needs to let people in: the users, their sessions, the limiter.
struct Auth {
  explicit Auth(UserFile u, std::chrono::seconds session_ttl = std::chrono::hours(12))
      : users(std::move(u)), sessions(session_ttl) {}
  UserFile users;
  Sessions sessions;
  LoginLimiter limiter;
};

}  // namespace kv::web
