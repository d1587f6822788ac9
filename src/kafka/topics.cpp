#include "kafka/topics.h"
#include "kafka/client.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/clock.h"
#include "common/log.h"

namespace kv::kafka {

Result<ResolvedTopicSettings> resolve_topic_settings(const TopicSettings& wanted, int brokers) {
  ResolvedTopicSettings r;
  if (wanted.partitions < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--partitions must be at least 1, not {}", wanted.partitions));
  }
  r.partitions = wanted.partitions;
  r.replication_factor =
      wanted.replication_factor > 0 ? wanted.replication_factor : std::clamp(brokers, 1, 3);
  if (r.replication_factor > brokers) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--replication-factor {} needs at least {} brokers, and the "
                                  "cluster has {}: lower it, or add brokers",
                                  r.replication_factor, r.replication_factor, brokers));
  }
  r.min_insync_replicas = wanted.min_insync_replicas > 0 ? wanted.min_insync_replicas
                                                         : std::min(2, r.replication_factor);
  if (r.min_insync_replicas > r.replication_factor) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--min-insync-replicas {} is more than the replication factor "
                                  "{}: no write with acks=all could ever succeed",
                                  r.min_insync_replicas, r.replication_factor));
  }
  return r;
}

Status ensure_topics(const KafkaConfig& config, const std::vector<std::string>& names,
                     const TopicSettings& settings, int timeout_ms,
                     const std::map<std::string, std::string>& topic_configs) {
  auto admin = Admin::create(config);
  if (!admin) return admin.error();
  auto layout = (*admin)->layout(timeout_ms);
  if (!layout) return layout.error();
  auto resolved = resolve_topic_settings(settings, static_cast<int>(layout->brokers.size()));
  if (!resolved) return resolved.error();
  std::vector<std::string> created;
  bool waiting = false;
  for (const std::string& name : names) {
    auto it = layout->topics.find(name);
    if (it != layout->topics.end()) {
      if (settings.replication_factor > it->second.replication_factor) {
        log_warn(
            "topic {} exists with replication factor {}, below the {} asked for; it is "
            "kept as it is (raise it with Kafka's partition reassignment tools)",
            name, it->second.replication_factor, settings.replication_factor);
      }
      if (it->second.partitions < 1) waiting = true;  // created a moment ago elsewhere
      continue;
    }
    std::map<std::string, std::string> configs = topic_configs;
    // A single replica needs no setting, and brokers that keep one copy need not know it.
    if (resolved->replication_factor > 1)
      configs["min.insync.replicas"] = std::to_string(resolved->min_insync_replicas);
    Status s = (*admin)->create_topic(name, resolved->partitions, configs, timeout_ms,
                                      resolved->replication_factor);
    // Another process may have created it a moment ago: that is what was wanted.
    if (!s && s.error().message.find("TOPIC_ALREADY_EXISTS") == std::string::npos) return s;
    if (s) created.push_back(name);
    waiting = true;  // ours or another process's: either may not be in every broker's metadata yet
  }
  if (!waiting) return ok_status();
  if (!created.empty()) {
    log_info("created topic(s) {}: {} partitions, replication factor {}, min.insync.replicas {}",
             fmt::format("{}", fmt::join(created, ", ")), resolved->partitions,
             resolved->replication_factor, resolved->min_insync_replicas);
  }
  // Creation is asynchronous on a cluster: wait until the metadata has the topics. Other
  // brokers may learn of them a moment later; Producer::connect waits for that where it asks.
  const int64_t deadline = mono_now_us() + int64_t{timeout_ms} * 1000;
  for (;;) {
    auto now = (*admin)->layout(timeout_ms);
    if (!now) return now.error();
    const bool all = std::all_of(names.begin(), names.end(), [&](const std::string& n) {
      auto t = now->topics.find(n);
      return t != now->topics.end() && t->second.partitions > 0;
    });
    if (all) return ok_status();
    if (mono_now_us() > deadline) {
      return make_error(ErrorCode::kTimeout,
                        fmt::format("topics {} were created but are not in the cluster's "
                                    "metadata after {} ms",
                                    fmt::join(names, ", "), timeout_ms));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace kv::kafka
