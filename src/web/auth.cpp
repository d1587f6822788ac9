#include "web/auth.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/http.h"

namespace kv::web {
namespace fs = std::filesystem;
namespace {

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '@' ||
           c == '-';
  });
}

}  // namespace

Result<UserFile> UserFile::load(const fs::path& path, bool may_be_missing) {
  UserFile out;
  std::ifstream in(path);
  if (!in) {
    if (may_be_missing && !fs::exists(path)) return out;
    return make_error(ErrorCode::kNotFound,
                      fmt::format("cannot read users file '{}'", path.string()));
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    const std::string name = line.substr(0, colon);
    if (colon == std::string::npos || !valid_name(name) ||
        line.compare(colon + 1, 10, "$argon2id$") != 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}:{}: expected NAME:$argon2id$... (add users with kvision "
                                    "web user add)",
                                    path.string(), number));
    }
    out.hashes_[name] = line.substr(colon + 1);
  }
  return out;
}

Status UserFile::set(const std::string& name, const std::string& password) {
  if (!valid_name(name)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("user name '{}': use 1-64 letters, digits, '.', '_', '@', '-'", name));
  }
  if (password.size() < 8) {
    return make_error(ErrorCode::kInvalidArgument, "the password must have at least 8 characters");
  }
  if (!sodium_ready()) return make_error(ErrorCode::kInternal, "libsodium did not start");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return make_error(ErrorCode::kInternal, "hashing the password ran out of memory");
  }
  hashes_[name] = hash;
  return ok_status();
}

Status UserFile::remove(const std::string& name) {
  if (hashes_.erase(name) == 0)
    return make_error(ErrorCode::kNotFound, fmt::format("no user '{}'", name));
  return ok_status();
}

Status UserFile::save(const fs::path& path) const {
  std::string content = "# kvision web users: NAME:ARGON2ID-HASH (kvision web user add|remove)\n";
  for (const auto& [name, hash] : hashes_) content += name + ":" + hash + "\n";
  const fs::path temp = path.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::kIo, fmt::format("cannot write '{}'", temp.string()));
  const bool ok =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) fs::rename(temp, path, ec);
  if (!ok || ec) {
    fs::remove(temp, ec);
    return make_error(ErrorCode::kIo, fmt::format("cannot write '{}'", path.string()));
  }
  return ok_status();
}

std::vector<std::string> UserFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, hash] : hashes_) out.push_back(name);
  return out;
}

bool UserFile::verify(const std::string& name, const std::string& password) const {
  if (!sodium_ready()) return false;
  auto it = hashes_.find(name);
  if (it == hashes_.end()) {
    // The same work for a name that does not exist: a hash of nothing in particular.
    static const std::string dummy = [] {
      char h[crypto_pwhash_STRBYTES];
      const char pw[] = "not a password";
      crypto_pwhash_str(h, pw, sizeof pw - 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE);
      return std::string(h);
    }();
    crypto_pwhash_str_verify(dummy.c_str(), password.data(), password.size());
    return false;
  }
  return crypto_pwhash_str_verify(it->second.c_str(), password.data(), password.size()) == 0;
}

std::string Sessions::create(const std::string& user) {
  sodium_ready();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[2 * sizeof raw + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(sessions_, [&](const auto& s) { return s.second.expires <= now; });
  sessions_[hex] = {user, now + ttl_};
  return hex;
}

std::optional<std::string> Sessions::user_of(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= std::chrono::steady_clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.user;
}

void Sessions::end(const std::string& token) {
  std::lock_guard lock(mu_);
  sessions_.erase(token);
}

int64_t LoginLimiter::wait_of(std::deque<Clock::time_point>& failures, Clock::time_point now) {
  while (!failures.empty() && failures.front() + window_ <= now) failures.pop_front();
  if (static_cast<int>(failures.size()) < max_failures_) return 0;
  return std::max<int64_t>(
      1,
      std::chrono::duration_cast<std::chrono::seconds>(failures.front() + window_ - now).count());
}

int64_t LoginLimiter::wait_seconds(const std::string& peer, const std::string& user) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  return std::max(wait_of(by_peer_[peer], now), wait_of(by_user_[user], now));
}

int LoginLimiter::failed(const std::string& peer, const std::string& user) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  by_peer_[peer].push_back(now);
  by_user_[user].push_back(now);
  wait_of(by_peer_[peer], now);
  return static_cast<int>(by_peer_[peer].size());
}

}  // namespace kv::web
