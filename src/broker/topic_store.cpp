#include "broker/topic_store.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "common/log.h"

namespace kv::broker {
namespace fs = std::filesystem;

bool valid_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

Result<std::unique_ptr<TopicStore>> TopicStore::open(const fs::path& data_dir,
                                                     const LogConfig& log) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec)
    return make_error(ErrorCode::kIo, fmt::format("cannot create data dir '{}': {}",
                                                  data_dir.string(), ec.message()));
  std::unique_ptr<TopicStore> store(new TopicStore(data_dir, log));
  std::map<std::string, std::vector<int32_t>> found;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    const size_t dash = name.rfind('-');
    if (dash == std::string::npos || dash == 0) continue;
    try {
      found[name.substr(0, dash)].push_back(std::stoi(name.substr(dash + 1)));
    } catch (const std::exception&) {
      continue;
    }
  }
  for (auto& [topic, parts] : found) {
    std::sort(parts.begin(), parts.end());
    std::vector<std::unique_ptr<PartitionLog>> logs;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i] != static_cast<int32_t>(i)) {
        return make_error(
            ErrorCode::kDecode,
            fmt::format("topic {} in '{}' is missing partition {}", topic, data_dir.string(), i));
      }
      auto pl = PartitionLog::open(data_dir / fmt::format("{}-{}", topic, i), log);
      if (!pl) return pl.error();
      logs.push_back(std::move(*pl));
    }
    log_info("broker: loaded topic {} ({} partitions)", topic, logs.size());
    store->topics_.emplace(topic, std::move(logs));
  }
  return store;
}

Status TopicStore::create_topic(const std::string& name, int partitions) {
  if (!valid_topic_name(name))
    return make_error(ErrorCode::kInvalidArgument, fmt::format("invalid topic name '{}'", name));
  if (partitions < 1 || partitions > 10000) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("invalid partition count {}", partitions));
  }
  std::lock_guard lock(mu_);
  if (topics_.count(name) != 0)
    return make_error(ErrorCode::kInvalidArgument, fmt::format("topic {} exists", name));
  std::vector<std::unique_ptr<PartitionLog>> logs;
  for (int i = 0; i < partitions; ++i) {
    auto pl = PartitionLog::open(dir_ / fmt::format("{}-{}", name, i), log_);
    if (!pl) return pl.error();
    logs.push_back(std::move(*pl));
  }
  topics_.emplace(name, std::move(logs));
  log_info("broker: created topic {} ({} partitions)", name, partitions);
  return ok_status();
}

PartitionLog* TopicStore::partition(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.size())
    return nullptr;
  return it->second[static_cast<size_t>(partition)].get();
}

int TopicStore::partition_count(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : static_cast<int>(it->second.size());
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
  for (auto& [_, logs] : topics_) {
    for (auto& l : logs) deleted += l->enforce_retention(now_ms);
  }
  return deleted;
}

}  // namespace kv::broker
