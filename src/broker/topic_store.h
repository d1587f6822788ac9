// The broker's topics: one PartitionLog per partition under <data-dir>/<topic>-<partition>/.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/partition_log.h"
#include "broker/topic_config.h"
#include "common/result.h"

namespace kv::broker {

// Thread-safety: all methods may be called from any thread. A PartitionLog stays alive while
// someone holds it, even after its topic is deleted (its files are then already unlinked).
class TopicStore {
 public:
  // Opens every topic found under data_dir, with its overrides of `defaults`.
  static Result<std::unique_ptr<TopicStore>> open(const std::filesystem::path& data_dir,
                                                  const LogConfig& defaults);

  // Creates a topic with validated overrides; an existing one with the same name is an error
  // whose message says "exists".
  Status create_topic(const std::string& name, int partitions,
                      const TopicOverrides& overrides = {});
  // Deletes a topic and its data; a missing one is an error whose message says "unknown".
  Status delete_topic(const std::string& name);
  // Replaces a topic's overrides (validated) and applies them to its partitions.
  Status set_overrides(const std::string& name, const TopicOverrides& overrides);
  std::optional<TopicOverrides> overrides(const std::string& name) const;
  const LogConfig& defaults() const { return defaults_; }

  // nullptr if the topic or partition does not exist.
  std::shared_ptr<PartitionLog> partition(const std::string& topic, int32_t partition) const;
  int partition_count(const std::string& topic) const;  // 0 if the topic does not exist
  std::vector<std::string> topic_names() const;

  // Wakes waiting fetches after an append.
  void notify_append();
  // Waits until `ready()` is true or timeout_ms passes. `ready` runs under the wake-up lock:
  // it may read partitions but must not append.
  void wait_for_append(int timeout_ms, const std::function<bool()>& ready);

  // Applies retention to every partition; returns the number of segments deleted.
  int enforce_retention(int64_t now_ms);
  // Compacts every partition of the topics whose cleanup policy includes "compact" (see
  // PartitionLog::compact; the store's lock is not held while a log is compacted). Call it from
  // the thread that calls enforce_retention. A partition that fails is logged and skipped.
  PartitionLog::CompactStats compact();

 private:
  struct Topic {
    TopicOverrides overrides;
    std::vector<std::shared_ptr<PartitionLog>> logs;
  };
  TopicStore(std::filesystem::path dir, LogConfig defaults)
      : dir_(std::move(dir)), defaults_(defaults) {}
  static Result<Topic> open_topic(const std::filesystem::path& dir, const std::string& name,
                                  int partitions, TopicOverrides overrides,
                                  const LogConfig& defaults);
  const std::filesystem::path dir_;
  const LogConfig defaults_;
  mutable std::mutex mu_;
  std::map<std::string, Topic> topics_;
  std::mutex append_mu_;
  std::condition_variable append_cv_;
  uint64_t append_seq_ = 0;
};

// Kafka's rule for topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..".
bool valid_topic_name(const std::string& name);

}  // namespace kv::broker
