#include "broker/topic_store.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/clock.h"
#include "common/log.h"

namespace kv::broker {
namespace fs = std::filesystem;

namespace {
// Directories of deleted topics are renamed to end in this before they are removed.
constexpr std::string_view kDeletedSuffix = "-delete";
}  // namespace

bool valid_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

Result<TopicStore::Topic> TopicStore::open_topic(const fs::path& dir, const std::string& name,
                                                 int partitions, TopicOverrides overrides,
                                                 const LogConfig& defaults) {
  Topic topic{std::move(overrides), {}};
  const LogConfig config = apply_overrides(defaults, topic.overrides);
  for (int i = 0; i < partitions; ++i) {
    auto pl = PartitionLog::open(dir / fmt::format("{}-{}", name, i), config);
    if (!pl) return pl.error();
    topic.logs.push_back(std::move(*pl));
  }
  return topic;
}

Result<std::unique_ptr<TopicStore>> TopicStore::open(const fs::path& data_dir,
                                                     const LogConfig& defaults) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec)
    return make_error(ErrorCode::kIo, fmt::format("cannot create data dir '{}': {}",
                                                  data_dir.string(), ec.message()));
  std::unique_ptr<TopicStore> store(new TopicStore(data_dir, defaults));
  std::map<std::string, std::vector<int32_t>> found;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    if (name.ends_with(kDeletedSuffix)) {  // a deletion interrupted by a crash
      fs::remove_all(entry.path(), ec);
      continue;
    }
    const size_t dash = name.rfind('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 == name.size() || dash + 6 < name.size())
      continue;
    const std::string digits = name.substr(dash + 1);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    found[name.substr(0, dash)].push_back(std::stoi(digits));
  }
  for (auto& [name, parts] : found) {
    std::sort(parts.begin(), parts.end());
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i] != static_cast<int32_t>(i)) {
        return make_error(
            ErrorCode::kDecode,
            fmt::format("topic {} in '{}' is missing partition {}", name, data_dir.string(), i));
      }
    }
    auto overrides = load_overrides(topic_config_path(data_dir, name));
    if (!overrides) return overrides.error();
    auto topic =
        open_topic(data_dir, name, static_cast<int>(parts.size()), std::move(*overrides), defaults);
    if (!topic) return topic.error();
    log_info("broker: loaded topic {} ({} partitions)", name, topic->logs.size());
    store->topics_.emplace(name, std::move(*topic));
  }
  return store;
}

Status TopicStore::create_topic(const std::string& name, int partitions,
                                const TopicOverrides& overrides) {
  if (!valid_topic_name(name))
    return make_error(ErrorCode::kInvalidArgument, fmt::format("invalid topic name '{}'", name));
  if (partitions < 1 || partitions > 10000) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("invalid partition count {}", partitions));
  }
  for (const auto& [key, value] : overrides) {
    if (Status s = validate_override(key, value); !s) return s;
  }
  std::lock_guard lock(mu_);
  if (topics_.count(name) != 0)
    return make_error(ErrorCode::kInvalidArgument, fmt::format("topic {} exists", name));
  // The overrides are stored first: a crash between the two leaves a topic with its settings.
  const fs::path config_path = topic_config_path(dir_, name);
  if (!overrides.empty()) {
    if (Status s = save_overrides(config_path, overrides); !s) return s;
  }
  auto topic = open_topic(dir_, name, partitions, overrides, defaults_);
  if (!topic) return topic.error();
  topics_.emplace(name, std::move(*topic));
  log_info("broker: created topic {} ({} partitions{}{})", name, partitions,
           overrides.empty() ? "" : ", ", overrides.empty() ? "" : fmt::format("{}", overrides));
  return ok_status();
}

Status TopicStore::delete_topic(const std::string& name) {
  std::vector<fs::path> doomed;
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end())
      return make_error(ErrorCode::kNotFound, fmt::format("unknown topic {}", name));
    // Renamed under the lock, so that a topic created again with this name starts empty; the
    // files of logs still held by a request go when it lets go.
    const int64_t stamp = wall_now_us();
    for (size_t i = 0; i < it->second.logs.size(); ++i) {
      const fs::path from = dir_ / fmt::format("{}-{}", name, i);
      const fs::path to = dir_ / fmt::format("{}-{}.{}{}", name, i, stamp, kDeletedSuffix);
      std::error_code ec;
      fs::rename(from, to, ec);
      if (ec) {
        return make_error(ErrorCode::kIo, fmt::format("cannot delete topic {}: renaming '{}': {}",
                                                      name, from.string(), ec.message()));
      }
      doomed.push_back(to);
    }
    std::error_code ec;
    fs::remove(topic_config_path(dir_, name), ec);
    topics_.erase(it);
  }
  for (const fs::path& p : doomed) {
    std::error_code ec;
    fs::remove_all(p, ec);
    if (ec) log_warn("broker: removing '{}': {}", p.string(), ec.message());
  }
  log_info("broker: deleted topic {}", name);
  return ok_status();
}

Status TopicStore::set_overrides(const std::string& name, const TopicOverrides& overrides) {
  for (const auto& [key, value] : overrides) {
    if (Status s = validate_override(key, value); !s) return s;
  }
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end())
    return make_error(ErrorCode::kNotFound, fmt::format("unknown topic {}", name));
  if (Status s = save_overrides(topic_config_path(dir_, name), overrides); !s) return s;
  it->second.overrides = overrides;
  const LogConfig config = apply_overrides(defaults_, overrides);
  for (auto& log : it->second.logs) log->set_config(config);
  log_info("broker: topic {} configs now {}", name, overrides);
  return ok_status();
}

std::optional<TopicOverrides> TopicStore::overrides(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second.overrides;
}

std::shared_ptr<PartitionLog> TopicStore::partition(const std::string& topic,
                                                    int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 ||
      static_cast<size_t>(partition) >= it->second.logs.size())
    return nullptr;
  return it->second.logs[static_cast<size_t>(partition)];
}

int TopicStore::partition_count(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : static_cast<int>(it->second.logs.size());
}

std::vector<std::string> TopicStore::topic_names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, _] : topics_) out.push_back(name);
  return out;
}

void TopicStore::notify_append() {
  {
    std::lock_guard lock(append_mu_);
    ++append_seq_;
  }
  append_cv_.notify_all();
}

void TopicStore::wait_for_append(int timeout_ms, const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock lock(append_mu_);
  while (!ready()) {
    const uint64_t seen = append_seq_;
    if (!append_cv_.wait_until(lock, deadline, [&] { return append_seq_ != seen; })) return;
  }
}

int TopicStore::enforce_retention(int64_t now_ms) {
  std::lock_guard lock(mu_);
  int deleted = 0;
  for (auto& [_, topic] : topics_) {
    for (auto& l : topic.logs) deleted += l->enforce_retention(now_ms);
  }
  return deleted;
}

PartitionLog::CompactStats TopicStore::compact() {
  std::vector<std::pair<std::string, std::shared_ptr<PartitionLog>>> logs;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, topic] : topics_) {
      for (size_t p = 0; p < topic.logs.size(); ++p)
        logs.emplace_back(fmt::format("{}-{}", name, p), topic.logs[p]);
    }
  }
  PartitionLog::CompactStats total;
  for (const auto& [name, log] : logs) {
    auto s = log->compact();
    if (!s) {
      log_error("broker: compacting {}: {}", name, s.error().message);
      continue;
    }
    total.segments_rewritten += s->segments_rewritten;
    total.records_removed += s->records_removed;
    total.bytes_before += s->bytes_before;
    total.bytes_after += s->bytes_after;
  }
  return total;
}

}  // namespace kv::broker
