// Transactions for the durable broker (KIP-98, with KIP-447's group fencing): transactional
// producer ids and epochs, the partitions and groups of each open transaction, commit and abort
// markers, offsets committed with a transaction, and transaction timeouts.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "broker/group_coordinator.h"
#include "broker/topic_store.h"
#include "common/clock.h"
#include "common/result.h"

namespace kv::broker {

// Kafka error codes of the transaction APIs.
inline constexpr int16_t kErrInvalidProducerEpoch = 47;
inline constexpr int16_t kErrInvalidTxnState = 48;
inline constexpr int16_t kErrInvalidProducerIdMapping = 49;
inline constexpr int16_t kErrInvalidTransactionTimeout = 50;
inline constexpr int16_t kErrUnknownTopicOrPartition = 3;

struct ProducerIdentity {
  int16_t error = 0;
  int64_t producer_id = -1;
  int16_t epoch = -1;
};

// One offset sent with a transaction: topic, partition, offset, metadata.
using TxnOffset = std::tuple<std::string, int32_t, int64_t, std::string>;

// Thread-safety: all methods may be called from any thread; they serialise on one mutex and
// write markers while holding it, so a transaction ends completely before the next call.
// Persistence: the id and epoch of every transactional id are kept in
// <data-dir>/__transactions (rewritten atomically on change), so epochs keep fencing across
// restarts. Open transactions do not survive a restart: recover() aborts them.
class TxnCoordinator {
 public:
  static Result<std::unique_ptr<TxnCoordinator>> open(const std::filesystem::path& data_dir,
                                                      TopicStore& store, GroupCoordinator& groups,
                                                      int32_t max_timeout_ms = 900000);

  // InitProducerId for a transactional id: the same producer id with the epoch bumped (the
  // previous producer is fenced; its open transaction is aborted), or a new one.
  ProducerIdentity init_producer(const std::string& txn_id, int32_t timeout_ms);
  // AddPartitionsToTxn: the partitions join the open transaction (starting it if needed).
  int16_t add_partitions(const std::string& txn_id, int64_t pid, int16_t epoch,
                         const std::vector<std::pair<std::string, int32_t>>& partitions);
  // AddOffsetsToTxn: the group's offsets will be committed with the transaction.
  int16_t add_offsets(const std::string& txn_id, int64_t pid, int16_t epoch,
                      const std::string& group);
  // TxnOffsetCommit: held until the transaction commits (dropped if it aborts). With a
  // generation (>= 0, KIP-447), a member that is no longer in the group is fenced.
  int16_t commit_offsets(const std::string& txn_id, int64_t pid, int16_t epoch,
                         const std::string& group, int32_t generation, const std::string& member_id,
                         const std::vector<TxnOffset>& offsets);
  // EndTxn: writes commit or abort markers to every partition of the transaction and applies
  // (or drops) its offsets.
  int16_t end(const std::string& txn_id, int64_t pid, int16_t epoch, bool commit);
  // Produce with a transactional id: only to a partition added to the open transaction.
  int16_t check_produce(const std::string& txn_id, int64_t pid, int16_t epoch,
                        const std::string& topic, int32_t partition);

  // Aborts transactions open longer than their timeout, bumping the epoch so their producer
  // is fenced. Returns how many were aborted.
  // A producer id never handed out before by this broker, across restarts too: ids start
  // from the wall clock in ms, shifted to leave room for 4096 ids per ms.
  int64_t new_producer_id() { return next_producer_id_.fetch_add(1); }
  int expire(int64_t now_ms);

  struct Stats {
    int64_t committed = 0;
    int64_t aborted = 0;
    int64_t timed_out = 0;
    int open = 0;
  };
  Stats stats() const;

 private:
  std::atomic<int64_t> next_producer_id_{(wall_now_us() / 1000) << 12};
  struct Txn {
    int64_t pid = -1;
    int16_t epoch = -1;
    int32_t timeout_ms = 60000;
    bool open = false;
    int64_t started_ms = 0;
    std::set<std::pair<std::string, int32_t>> partitions;
    std::set<std::string> groups;
    std::map<std::string, std::vector<TxnOffset>> offsets;  // by group
  };
  TxnCoordinator(std::filesystem::path path, TopicStore& store, GroupCoordinator& groups,
                 int32_t max_timeout_ms)
      : path_(std::move(path)), store_(store), groups_(groups), max_timeout_ms_(max_timeout_ms) {}
  Status load();
  Status persist_locked();
  // Aborts transactions left open in the logs by a previous run.
  void recover();
  // Checks the caller's id and epoch against the transactional id's; 0 if they match.
  int16_t check_locked(const std::string& txn_id, int64_t pid, int16_t epoch, Txn** txn);
  void finish_locked(Txn& txn, bool commit);
  void bump_epoch(Txn& txn);

  const std::filesystem::path path_;
  TopicStore& store_;
  GroupCoordinator& groups_;
  const int32_t max_timeout_ms_;
  mutable std::mutex mu_;
  std::map<std::string, Txn> txns_;
  Stats stats_;
};

}  // namespace kv::broker
