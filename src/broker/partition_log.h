// One partition's durable log: segment files of RecordBatch v2 bytes with an offset index.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "broker/record_batch.h"
#include "common/result.h"

namespace kv::broker {

struct LogConfig {
  int64_t segment_bytes = 64LL << 20;             // roll to a new segment past this size
  int64_t retention_bytes = -1;                   // per partition; -1: keep everything
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // by newest timestamp in a segment; -1: forever
  // fdatasync at least this often; 0: after every append. Every append is written to the file
  // before it is acknowledged, so it survives a crash of the broker process at any setting;
  // this interval bounds what a crash of the machine itself can lose.
  int64_t flush_interval_ms = 1000;
  // cleanup.policy: "delete" applies the retention limits above; "compact" keeps, of the
  // records in rolled segments, only the newest one of each key (see compact()).
  bool delete_old = true;
  bool compact = false;
};

// Lifecycle: open() recovers the directory (validating the tail, truncating a torn write) ->
// append()/read() -> destroyed (flushes). Thread-safety: all methods may be called from any
// thread; they serialise on one mutex.
class PartitionLog {
 public:
  static Result<std::unique_ptr<PartitionLog>> open(const std::filesystem::path& dir,
                                                    const LogConfig& config);
  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Appends one record batch, assigning offsets from log_end_offset() (the base offset in
  // `batch` is rewritten). The batch must be a valid RecordBatch v2 with a correct CRC.
  // Returns the base offset. Batches of idempotent producers are checked as Kafka does: a
  // retry of one of the producer's last 5 batches is not stored again (its original base
  // offset is returned), a gap in the sequence is an error starting "OUT_OF_ORDER_SEQUENCE_NUMBER",
  // an old epoch one starting "INVALID_PRODUCER_EPOCH".
  Result<int64_t> append(std::span<uint8_t> batch);

  // Writes a transaction marker (a control batch) for the producer's open transaction here.
  // The epoch may be newer than the producer's (a fencing abort); it becomes the current one.
  Result<int64_t> append_marker(int64_t producer_id, int16_t producer_epoch, bool commit);

  // Whole batches from the one holding `offset`, up to about max_bytes (always at least one
  // batch) and none starting at or after `upto` (the last stable offset for read_committed).
  // Empty at the log end. An offset outside [log start, log end] is an error for which
  // is_out_of_range() is true (Kafka's OFFSET_OUT_OF_RANGE).
  Result<std::vector<uint8_t>> read(int64_t offset, size_t max_bytes,
                                    int64_t upto = INT64_MAX) const;

  // Transactions as the log shows them (rebuilt at open from the batches and markers).
  struct AbortedTxn {
    int64_t producer_id;
    int64_t first_offset;
    int64_t last_offset;  // the abort marker's offset
  };
  // The first offset of the oldest open transaction, or the log end if none is open.
  int64_t last_stable_offset() const;
  // Aborted transactions that overlap [from, to): what a read_committed fetch must skip.
  std::vector<AbortedTxn> aborted_between(int64_t from, int64_t to) const;
  // Producers with a transaction open here, with their epoch.
  std::vector<std::pair<int64_t, int16_t>> open_transactions() const;

  // The base offset of the first batch whose newest timestamp is at or after timestamp_ms,
  // with that timestamp (a batch-level answer: earlier records of that batch come too);
  // {-1, -1} if there is none, as Kafka answers ListOffsets.
  struct TimedOffset {
    int64_t offset = -1;
    int64_t timestamp_ms = -1;
  };
  TimedOffset offset_for_timestamp(int64_t timestamp_ms) const;

  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  int64_t size_bytes() const;
  // Bytes cut from the tail by recovery when the log was opened (a torn or corrupt write).
  int64_t recovered_truncated_bytes() const { return truncated_bytes_; }

  Status flush();

  // Changes segment size, retention and flush interval from the next append or retention pass.
  void set_config(const LogConfig& config);

  // Deletes whole segments beyond the retention limits, never the active one; the log start
  // moves to the first remaining segment. Returns the number of segments deleted. Does
  // nothing unless the cleanup policy includes "delete".
  int enforce_retention(int64_t now_ms);

  // Log compaction, as Kafka's cleaner does it, for a cleanup policy with "compact". Rolled
  // segments wholly below the last stable offset are rewritten keeping, of the keyed records
  // there, only the newest of each key; records of aborted transactions go too. Offsets never
  // change: a fetch in a gap gets the next batch. Kept as they are: the active segment,
  // records without a key, tombstones that are the newest of their key, transaction
  // markers, compressed batches (not decoded here) and each idempotent producer's latest
  // batches (the duplicate check needs them after a restart). Runs only when segments rolled
  // since the last pass. A segment left empty is removed (the first one stays, empty, to keep
  // the log start). The batches are read and the new files written without the lock; they are
  // swapped in under it. compact() and enforce_retention() must be called from one thread.
  struct CompactStats {
    int segments_rewritten = 0;
    int64_t records_removed = 0;
    int64_t bytes_before = 0;
    int64_t bytes_after = 0;
  };
  Result<CompactStats> compact();

 private:
  struct Segment;
  struct ProducerBatch {
    int32_t first_seq;
    int32_t last_seq;
    int64_t base_offset;
  };
  struct ProducerState {
    int16_t epoch = -1;
    std::deque<ProducerBatch> recent;  // the last kProducerWindow batches
  };
  void remember_producer(int64_t pid, int16_t epoch, int32_t first_seq, int32_t last_delta,
                         int64_t base_offset);
  // Updates the open and aborted transactions for a batch stored at [base, last].
  void track_transaction(const BatchHeader& h, int64_t base, std::optional<bool> commit);
  PartitionLog(std::filesystem::path dir, LogConfig config);
  Status recover();
  Status roll(int64_t base_offset);
  Status flush_locked();

  const std::filesystem::path dir_;
  LogConfig config_;  // guarded by mu_
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Segment>> segments_;  // ascending base offset; back() is active
  int64_t log_start_ = 0;
  int64_t log_end_ = 0;
  int64_t truncated_bytes_ = 0;
  int64_t cleaned_upto_ = -1;  // compact() has seen the rolled segments up to this offset
  int64_t last_flush_ms_ = 0;
  bool dirty_ = false;
  std::map<int64_t, ProducerState> producers_;  // rebuilt from batch headers at open
  std::map<int64_t, int64_t> open_txns_;  // producer id -> first offset of its open transaction
  std::vector<AbortedTxn> aborted_;       // ascending marker offset
};

// True if an error from read() means the offset is outside the log.
bool is_out_of_range(const Error& error);

}  // namespace kv::broker
