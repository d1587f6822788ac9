#include "broker/group_coordinator.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "broker/fd_io.h"
#include "common/clock.h"
#include "common/log.h"

namespace kv::broker {
namespace fs = std::filesystem;

namespace {

// One committed offset per line: group, topic, partition, offset, metadata, tab-separated,
// with '%', tab and newline percent-encoded. A line without its newline is a torn write.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '\t' || c == '\n') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string offset_line(const std::string& group, const std::string& topic, int32_t partition,
                        const CommittedOffset& c) {
  return fmt::format("{}\t{}\t{}\t{}\t{}\n", escape(group), escape(topic), partition, c.offset,
                     escape(c.metadata));
}

}  // namespace

const char* GroupCoordinator::state_name(State s) {
  switch (s) {
    case State::kEmpty:
      return "Empty";
    case State::kPreparingRebalance:
      return "PreparingRebalance";
    case State::kCompletingRebalance:
      return "CompletingRebalance";
    case State::kStable:
      return "Stable";
  }
  return "Unknown";
}

Result<std::unique_ptr<GroupCoordinator>> GroupCoordinator::open(const fs::path& data_dir,
                                                                 GroupLimits limits) {
  std::unique_ptr<GroupCoordinator> c(
      new GroupCoordinator(data_dir / "__consumer_offsets.txt", limits));
  if (Status s = c->replay_offsets(); !s) return s.error();
  c->reaper_ = std::thread([raw = c.get()] { raw->reaper_loop(); });
  return c;
}

GroupCoordinator::~GroupCoordinator() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  if (offsets_dirty_ && offsets_fd_.get() >= 0) ::fdatasync(offsets_fd_.get());
}

// Replays the offsets file (last line wins), then rewrites it compacted and opens it for appends.
Status GroupCoordinator::replay_offsets() {
  {
    std::ifstream in(offsets_path_);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t start = 0;
    for (size_t nl = content.find('\n'); nl != std::string::npos;
         start = nl + 1, nl = content.find('\n', start)) {
      std::vector<std::string> f;
      std::stringstream ss(content.substr(start, nl - start));
      for (std::string part; std::getline(ss, part, '\t');) f.push_back(part);
      if (f.size() == 4) f.emplace_back();
      if (f.size() != 5) continue;
      try {
        offsets_[unescape(f[0])][{unescape(f[1]), std::stoi(f[2])}] = {std::stoll(f[3]),
                                                                       unescape(f[4])};
      } catch (const std::exception&) {
        continue;
      }
    }
  }
  std::string all;
  for (const auto& [group, parts] : offsets_) {
    for (const auto& [tp, c] : parts) all += offset_line(group, tp.first, tp.second, c);
  }
  if (Status s = replace_file(offsets_path_, all); !s) return s;
  offsets_fd_ = File(::open(offsets_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (offsets_fd_.get() < 0) {
    return make_error(ErrorCode::kIo, fmt::format("cannot open '{}': {}", offsets_path_.string(),
                                                  std::strerror(errno)));
  }
  return ok_status();
}

void GroupCoordinator::begin_rebalance(Group& g, int64_t now) {
  g.state = State::kPreparingRebalance;
  int32_t timeout = 0;
  for (const auto& [_, m] : g.members) timeout = std::max(timeout, m.rebalance_timeout_ms);
  g.rebalance_deadline_ms = now + timeout;
  ++g.epoch;
  cv_.notify_all();
}

// Completes the join phase once every member has rejoined, or at the deadline without those
// that did not.
bool GroupCoordinator::try_complete_join(Group& g, int64_t now) {
  if (g.state != State::kPreparingRebalance) return false;
  const bool all = std::all_of(g.members.begin(), g.members.end(),
                               [](const auto& kv) { return kv.second.joined; });
  if (!all && now < g.rebalance_deadline_ms) return false;
  std::erase_if(g.members, [](const auto& kv) { return !kv.second.joined; });
  ++g.generation;
  ++g.epoch;
  if (g.members.empty()) {
    g.state = State::kEmpty;
    g.leader.clear();
    cv_.notify_all();
    return true;
  }
  if (g.members.count(g.leader) == 0) g.leader = g.members.begin()->first;
  // The first protocol of the leader that every member supports.
  g.protocol.clear();
  for (const auto& leader_protocol : g.members[g.leader].protocols) {
    const std::string& name = leader_protocol.first;  // (clang 14 cannot capture bindings)
    const bool everyone = std::all_of(g.members.begin(), g.members.end(), [&](const auto& kv) {
      return std::any_of(kv.second.protocols.begin(), kv.second.protocols.end(),
                         [&](const auto& p) { return p.first == name; });
    });
    if (everyone) {
      g.protocol = name;
      break;
    }
  }
  g.state = State::kCompletingRebalance;
  for (auto& [_, m] : g.members) {
    m.joined = false;
    m.assignment.clear();
    m.last_seen_ms = now;
  }
  cv_.notify_all();
  return true;
}

JoinResponse GroupCoordinator::join(const JoinRequest& req) {
  std::unique_lock lock(mu_);
  JoinResponse resp;
  if (req.session_timeout_ms < 1000 || req.session_timeout_ms > 1800000) {
    resp.error = kErrInvalidSessionTimeout;
    return resp;
  }
  Group& g = groups_[req.group];
  if (!g.members.empty() && g.protocol_type != req.protocol_type) {
    resp.error = kErrInconsistentProtocol;
    return resp;
  }
  std::string id = req.member_id;
  if (id.empty()) {
    id = fmt::format("{}-{}", req.client_id.empty() ? "member" : req.client_id, next_member_++);
  } else if (g.members.count(id) == 0) {
    resp.error = kErrUnknownMemberId;
    return resp;
  }
  g.protocol_type = req.protocol_type;
  Member& m = g.members[id];
  m.client_id = req.client_id;
  m.session_timeout_ms = std::min(req.session_timeout_ms, limits_.max_session_timeout_ms);
  m.rebalance_timeout_ms = std::min(std::max(req.rebalance_timeout_ms, req.session_timeout_ms),
                                    limits_.max_rebalance_timeout_ms);
  m.protocols = req.protocols;
  m.joined = true;
  m.last_seen_ms = mono_now_ms();
  if (g.state != State::kPreparingRebalance) begin_rebalance(g, mono_now_ms());
  const int32_t generation_before = g.generation;
  while (!stopping_) {
    try_complete_join(g, mono_now_ms());
    auto it = g.members.find(id);
    if (g.generation != generation_before) {
      if (it == g.members.end()) {
        resp.error = kErrUnknownMemberId;
        return resp;
      }
      break;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (stopping_) {
    resp.error = kErrCoordinatorNotAvailable;
    return resp;
  }
  resp.generation = g.generation;
  resp.protocol = g.protocol;
  resp.leader = g.leader;
  resp.member_id = id;
  if (id == g.leader) {
    for (const auto& [mid, member] : g.members) {
      for (const auto& [name, meta] : member.protocols) {
        if (name == g.protocol) resp.members.emplace_back(mid, meta);
      }
    }
  }
  return resp;
}

std::pair<int16_t, std::vector<uint8_t>> GroupCoordinator::sync(
    const std::string& group, int32_t generation, const std::string& member_id,
    const std::vector<std::pair<std::string, std::vector<uint8_t>>>& assignments) {
  std::unique_lock lock(mu_);
  auto git = groups_.find(group);
  if (git == groups_.end() || git->second.members.count(member_id) == 0)
    return {kErrUnknownMemberId, {}};
  Group& g = git->second;
  if (generation != g.generation) return {kErrIllegalGeneration, {}};
  g.members[member_id].last_seen_ms = mono_now_ms();
  if (g.state == State::kPreparingRebalance) return {kErrRebalanceInProgress, {}};
  if (g.state == State::kCompletingRebalance && member_id == g.leader) {
    for (const auto& [id, bytes] : assignments) {
      auto it = g.members.find(id);
      if (it != g.members.end()) it->second.assignment = bytes;
    }
    g.state = State::kStable;
    ++g.epoch;
    cv_.notify_all();
  }
  while (!stopping_ && g.state == State::kCompletingRebalance && g.generation == generation &&
         g.members.count(member_id) != 0) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return {kErrUnknownMemberId, {}};
  if (g.state != State::kStable || g.generation != generation) return {kErrRebalanceInProgress, {}};
  return {0, it->second.assignment};
}

int16_t GroupCoordinator::heartbeat(const std::string& group, int32_t generation,
                                    const std::string& member_id) {
  std::lock_guard lock(mu_);
  auto git = groups_.find(group);
  if (git == groups_.end()) return kErrUnknownMemberId;
  Group& g = git->second;
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return kErrUnknownMemberId;
  if (generation != g.generation) return kErrIllegalGeneration;
  it->second.last_seen_ms = mono_now_ms();
  return g.state == State::kPreparingRebalance ? kErrRebalanceInProgress : 0;
}

int16_t GroupCoordinator::leave(const std::string& group, const std::string& member_id) {
  std::lock_guard lock(mu_);
  auto git = groups_.find(group);
  if (git == groups_.end() || git->second.members.erase(member_id) == 0) return kErrUnknownMemberId;
  Group& g = git->second;
  if (g.members.empty()) {
    g.state = State::kEmpty;
    ++g.generation;
    ++g.epoch;
    cv_.notify_all();
  } else if (g.state != State::kPreparingRebalance) {
    begin_rebalance(g, mono_now_ms());
  } else {
    try_complete_join(g, mono_now_ms());
  }
  return 0;
}

void GroupCoordinator::reaper_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (offsets_dirty_ && mono_now_ms() - offsets_synced_ms_ >= limits_.offsets_flush_ms) {
      sync_offsets_unlocked(lock);
      if (stopping_) break;
    }
    const int64_t now = mono_now_ms();
    for (auto& entry : groups_) {
      const std::string& name = entry.first;
      Group& g = entry.second;
      const size_t before = g.members.size();
      std::erase_if(g.members, [&](const auto& kv) {
        const Member& m = kv.second;
        const bool expired = !m.joined && now - m.last_seen_ms > m.session_timeout_ms;
        if (expired) log_info("broker: group {}: member {} timed out", name, kv.first);
        return expired;
      });
      if (g.members.size() != before) {
        if (g.members.empty()) {
          g.state = State::kEmpty;
          ++g.generation;
        } else if (g.state != State::kPreparingRebalance) {
          begin_rebalance(g, now);
        }
        ++g.epoch;
        cv_.notify_all();
      }
      try_complete_join(g, now);
    }
  }
}

int16_t GroupCoordinator::check_member_locked(const std::string& group, int32_t generation,
                                              const std::string& member_id) const {
  auto git = groups_.find(group);
  if (git == groups_.end() || git->second.members.count(member_id) == 0) return kErrUnknownMemberId;
  if (git->second.generation != generation) return kErrIllegalGeneration;
  // As Kafka: members of the current generation may commit while a rebalance is being
  // prepared (that is when they hand their partitions back), not while it completes.
  if (git->second.state == State::kCompletingRebalance) return kErrRebalanceInProgress;
  return 0;
}

int16_t GroupCoordinator::check_member(const std::string& group, int32_t generation,
                                       const std::string& member_id) const {
  std::lock_guard lock(mu_);
  return check_member_locked(group, generation, member_id);
}

int16_t GroupCoordinator::commit(
    const std::string& group, int32_t generation, const std::string& member_id,
    const std::vector<std::tuple<std::string, int32_t, int64_t, std::string>>& offsets) {
  std::unique_lock lock(mu_);
  if (generation >= 0) {
    if (int16_t e = check_member_locked(group, generation, member_id); e != 0) return e;
    groups_[group].members[member_id].last_seen_ms = mono_now_ms();
  }
  std::string lines;
  for (const auto& [topic, partition, offset, metadata] : offsets) {
    lines += offset_line(group, topic, partition, {offset, metadata});
  }
  // Written before acknowledged, in the order they become visible; synced by the flush policy.
  if (!write_all(offsets_fd_.get(), lines.data(), lines.size())) {
    log_error("broker: cannot persist committed offsets: {}", std::strerror(errno));
    return kErrCoordinatorNotAvailable;
  }
  for (const auto& [topic, partition, offset, metadata] : offsets) {
    offsets_[group][{topic, partition}] = {offset, metadata};
  }
  offsets_dirty_ = true;
  if (limits_.offsets_flush_ms == 0) {
    if (!sync_offsets_unlocked(lock)) return kErrCoordinatorNotAvailable;
  }
  return 0;
}

// fdatasync of the offsets file with mu_ released, so heartbeats and joins go on meanwhile.
// False, leaving offsets_dirty_ set, when the sync failed.
bool GroupCoordinator::sync_offsets_unlocked(std::unique_lock<std::mutex>& lock) {
  offsets_dirty_ = false;
  const int fd = offsets_fd_.get();
  lock.unlock();
  const bool ok = ::fdatasync(fd) == 0;
  const int err = errno;
  lock.lock();
  offsets_synced_ms_ = mono_now_ms();
  if (!ok) {
    offsets_dirty_ = true;
    log_error("broker: cannot sync committed offsets: {}", std::strerror(err));
  }
  return ok;
}

std::optional<CommittedOffset> GroupCoordinator::committed(const std::string& group,
                                                           const std::string& topic,
                                                           int32_t partition) const {
  std::lock_guard lock(mu_);
  auto git = offsets_.find(group);
  if (git == offsets_.end()) return std::nullopt;
  auto it = git->second.find({topic, partition});
  if (it == git->second.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, int32_t>> GroupCoordinator::committed_partitions(
    const std::string& group) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, int32_t>> out;
  auto git = offsets_.find(group);
  if (git != offsets_.end()) {
    for (const auto& [tp, _] : git->second) out.push_back(tp);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> GroupCoordinator::list_groups() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, g] : groups_) out.emplace_back(name, g.protocol_type);
  for (const auto& [name, _] : offsets_) {
    if (groups_.count(name) == 0) out.emplace_back(name, "consumer");
  }
  return out;
}

std::optional<GroupSummary> GroupCoordinator::describe(const std::string& group) const {
  std::lock_guard lock(mu_);
  auto git = groups_.find(group);
  if (git == groups_.end()) return std::nullopt;
  const Group& g = git->second;
  GroupSummary s{group, state_name(g.state), g.protocol_type, g.protocol, {}};
  for (const auto& [id, m] : g.members) {
    std::vector<uint8_t> meta;
    for (const auto& [name, bytes] : m.protocols) {
      if (name == g.protocol) meta = bytes;
    }
    s.members.push_back({id, m.client_id, meta, m.assignment});
  }
  return s;
}

}  // namespace kv::broker
