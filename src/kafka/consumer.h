#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/handles.h"
#include "kafka/record.h"

namespace kv::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const TopicPartition&) const = default;
  auto operator<=>(const TopicPartition&) const = default;
};

struct PartitionLag {
  TopicPartition partition;
  int64_t records = 0;
};

// Where a manually assigned partition is first read from.
struct PartitionStart {
  static constexpr int64_t kBeginning = -2;
  static constexpr int64_t kEnd = -1;
  // `n` records before the end.
  static constexpr int64_t tail(int64_t n) { return -2000 - n; }
  TopicPartition partition;
  int64_t offset = kBeginning;
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

// Where a consume loop takes records from: a group member (Consumer) or a reader of chosen
// partitions (PartitionReader).
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next record, or an empty Message when none arrived within timeout_ms. Transient
  // errors are logged and yield an empty Message; fatal ones are returned.
  virtual Result<Message> poll(int timeout_ms) = 0;
  // Marks everything before `next_offset` on the partition as done (a reader keeps no offsets).
  virtual Status store_offset(const std::string& topic, int32_t partition, int64_t next_offset) = 0;
  // Told about rebalances from now on (a reader has none). Set before the first poll().
  virtual void set_listener(RebalanceListener* listener) = 0;
  // Commits what was stored and stops reading. Idempotent.
  virtual void close() = 0;
};

// A member of a consumer group with at-least-once offset handling: offsets are committed
// only once stored with store_offset(), i.e. after the caller finished with the record.
//
// Lifecycle: create() -> subscribe() -> poll()* -> close(). Thread-safety: poll(), close()
// and the listener run on one thread; store_offset() may be called from any thread.
class Consumer final : public RecordSource {
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

  // The next record, or an empty Message when none arrived within timeout_ms. Transient
  // consumer errors are logged and yield an empty Message; fatal ones are returned.
  Result<Message> poll(int timeout_ms) override;

  // Marks everything before `next_offset` on the partition as done.
  Status store_offset(const std::string& topic, int32_t partition, int64_t next_offset) override;
  void set_listener(RebalanceListener* listener) override { listener_ = listener; }

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
  void close() override;

  // Records between the position and the end of each assigned partition, from the watermarks
  // the client already holds (no request to the broker). Thread-safe.
  std::vector<PartitionLag> lag() const;

 private:
  friend class Producer;  // send_offsets() hands the consumer's group metadata over
  struct Callbacks;
  Consumer() = default;
  void on_rebalance(int err, rd_kafka_topic_partition_list_s* parts);

  KafkaHandle rk_;
  static constexpr int kCloseTimeoutMs = 10000;
  RebalanceListener* listener_ = nullptr;
  bool closed_ = false;
  bool abandoned_ = false;  // close() gave up waiting for the group coordinator
};

}  // namespace kv::kafka
