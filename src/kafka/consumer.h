#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/handles.h"

namespace kv::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const TopicPartition&) const = default;
  auto operator<=>(const TopicPartition&) const = default;
};

// Told about rebalances, on the thread that calls Consumer::poll().
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void on_assigned(const std::vector<TopicPartition>& partitions) = 0;
  // Called before the partitions are taken away: finish or hand back their work and store
  // their offsets now; they are committed right after this returns.
  virtual void on_revoking(const std::vector<TopicPartition>& partitions) = 0;
};

// A member of a consumer group with at-least-once offset handling: offsets are committed
// only once stored with store_offset(), i.e. after the caller finished with the record.
//
// Lifecycle: create() -> subscribe() -> poll()* -> close(). Thread-safety: poll(), close()
// and the listener run on one thread; store_offset() may be called from any thread.
class Consumer {
 public:
  static Properties default_properties();

  static Result<std::unique_ptr<Consumer>> create(const KafkaConfig& config,
                                                  const std::string& group,
                                                  const Properties& extra = {},
                                                  RebalanceListener* listener = nullptr);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  Status subscribe(const std::vector<std::string>& topics);

  // The next record, or nullptr when none arrived within timeout_ms. Transient consumer
  // errors are logged and yield nullptr; fatal ones are returned.
  Result<MessagePtr> poll(int timeout_ms);

  // Marks everything before `next_offset` on the partition as done.
  Status store_offset(const std::string& topic, int32_t partition, int64_t next_offset);

  // Stops (resumes) fetching on every assigned partition; poll() keeps serving the group.
  // Records already fetched for a paused partition are dropped and fetched again on resume.
  Status pause();
  Status resume();

  // Commits the stored offsets now and waits for the broker's answer.
  Status commit_sync();

  // Moves fetching on `partitions` back to the group's committed offsets (to the beginning
  // where none is committed), so that work done since is read again (exactly-once, after an
  // aborted transaction).
  Status rewind_to_committed(const std::vector<TopicPartition>& partitions, int timeout_ms);

  // Commits stored offsets and leaves the group, waiting at most 10 s for the group
  // coordinator (a broker that is gone does not hang the process). Idempotent.
  void close();

  rd_kafka_t* handle() const { return rk_.get(); }

 private:
  Consumer() = default;
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque);

  KafkaHandle rk_;
  static constexpr int kCloseTimeoutMs = 10000;
  RebalanceListener* listener_ = nullptr;
  bool closed_ = false;
  bool abandoned_ = false;  // close() gave up waiting for the group coordinator
};

std::vector<TopicPartition> to_partitions(const rd_kafka_topic_partition_list_t* list);

}  // namespace kv::kafka
