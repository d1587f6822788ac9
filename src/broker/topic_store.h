// The broker's topics: one PartitionLog per partition under <data-dir>/<topic>-<partition>/.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/partition_log.h"
#include "common/result.h"

namespace kv::broker {

// Thread-safety: all methods may be called from any thread. PartitionLog pointers stay valid
// until the topic is deleted (not supported yet) or the store is destroyed.
class TopicStore {
 public:
  // Opens every topic found under data_dir.
  static Result<std::unique_ptr<TopicStore>> open(const std::filesystem::path& data_dir,
                                                  const LogConfig& log);

  // Creates a topic; an existing one with the same name is an error whose message says "exists".
  Status create_topic(const std::string& name, int partitions);
  // nullptr if the topic or partition does not exist.
  PartitionLog* partition(const std::string& topic, int32_t partition) const;
  int partition_count(const std::string& topic) const;  // 0 if the topic does not exist
  std::vector<std::string> topic_names() const;

  // Wakes waiting fetches after an append.
  void notify_append();
  // Waits until `ready()` is true or timeout_ms passes. `ready` runs under the wake-up lock:
  // it may read partitions but must not append.
  void wait_for_append(int timeout_ms, const std::function<bool()>& ready);

  // Applies retention to every partition; returns the number of segments deleted.
  int enforce_retention(int64_t now_ms);

 private:
  TopicStore(std::filesystem::path dir, LogConfig log) : dir_(std::move(dir)), log_(log) {}
  const std::filesystem::path dir_;
  const LogConfig log_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<PartitionLog>>> topics_;
  std::mutex append_mu_;
  std::condition_variable append_cv_;
  uint64_t append_seq_ = 0;
};

// Kafka's rule for topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..".
bool valid_topic_name(const std::string& name);

}  // namespace kv::broker
