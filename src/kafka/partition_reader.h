// Reading chosen partitions outside any consumer group's work sharing (manual assignment,
// nothing committed): the live view follows topics from their tail, audits read topics whole,
// `kvision status` peeks at single records.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/handles.h"
#include "kafka/record.h"

namespace kv::kafka {

// Thread-safety: one thread at a time.
class PartitionReader final : public RecordSource {
 public:
  struct Options {
    bool committed = true;     // isolation.level=read_committed
    bool report_ends = false;  // note each partition's end as it is reached (ends())
    std::string name = "reader";
  };
  static Result<std::unique_ptr<PartitionReader>> create(const KafkaConfig& config,
                                                         const Options& options);
  ~PartitionReader() override;
  PartitionReader(const PartitionReader&) = delete;
  PartitionReader& operator=(const PartitionReader&) = delete;

  // Reads these partitions too, each from its start.
  Status read(const std::vector<PartitionStart>& partitions);
  // Reads every partition of `topic` from `start` (PartitionStart::kBeginning, kEnd or
  // tail(n)): those there now and, through refresh(), those created later, topic included.
  void follow(const std::string& topic, int64_t start);
  // Starts reading the followed partitions not read yet. Returns how many partitions of the
  // first followed topic are read.
  Result<int> refresh(int timeout_ms);
  // What refresh() last returned. Thread-safe.
  int followed_partitions() const { return followed_partitions_.load(); }
  // Stops reading every partition and forgets the ends reached (followed topics too).
  Status clear();

  // Also refreshes the followed topics every 5 s.
  Result<Message> poll(int timeout_ms) override;
  Status store_offset(const std::string&, int32_t, int64_t) override { return ok_status(); }
  void set_listener(RebalanceListener*) override {}
  void close() override;

  // The partitions whose end was reached since they were added (with report_ends).
  const std::set<TopicPartition>& ends() const { return ends_; }
  // Where each partition's records from `timestamp_ms` on begin (the first record whose
  // timestamp is at or after it); a partition with none has no entry.
  Result<std::vector<PartitionStart>> starts_at_time(const std::vector<TopicPartition>& partitions,
                                                     int64_t timestamp_ms, int timeout_ms);
  // The partitions of `topic` that exist now; a missing topic has none.
  Result<std::vector<TopicPartition>> partitions_of(const std::string& topic, int timeout_ms);

 private:
  friend class StatusReader;  // asks the same client for metadata and offsets
  PartitionReader() = default;

  KafkaHandle rk_;
  std::string name_;
  std::vector<std::pair<std::string, int64_t>> followed_;
  std::set<TopicPartition> reading_;
  std::set<TopicPartition> ends_;
  int64_t refreshed_us_ = 0;
  std::atomic<int> followed_partitions_{0};
  bool closed_ = false;
};

struct ReadToEndOptions {
  bool committed = false;       // isolation.level=read_committed
  bool may_be_missing = false;  // a missing topic reads as empty instead of an error
  int idle_timeout_s = 60;      // give up after this long without a record or an end
};

// Calls `fn` for every record of `topic`, from the beginning of each partition to the end it
// has when first reached. Errors: a missing topic (unless may_be_missing), a fetch error, or
// nothing received for idle_timeout_s.
Status read_to_end(const KafkaConfig& config, const std::string& topic,
                   const ReadToEndOptions& options, const std::function<void(const Message&)>& fn);
// The same for chosen partitions of one topic, from the starts that `starts` picks with the
// reader (e.g. through starts_at_time); a partition it leaves out is not read.
Status read_to_end(const KafkaConfig& config, const std::string& topic,
                   const std::vector<int32_t>& partitions, const ReadToEndOptions& options,
                   const std::function<Result<std::vector<PartitionStart>>(
                       PartitionReader&, const std::vector<TopicPartition>&)>& starts,
                   const std::function<void(const Message&)>& fn);

}  // namespace kv::kafka
