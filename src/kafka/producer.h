#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/handles.h"
#include "kafka/record.h"

namespace kv::kafka {

class Consumer;

// Where a record landed, or why it did not.
struct Delivery {
  Status status;
  int32_t partition = -1;
  int64_t offset = -1;
};

// The outcome of a transaction call. kAbortable: abort the transaction and redo its work;
// kFatal: the producer is fenced (another instance took its transactional id, or the
// transaction timed out) and must be closed.
struct TxnResult {
  enum Kind { kOk, kRetriable, kAbortable, kFatal } kind = kOk;
  std::string message;
  bool ok() const { return kind == kOk; }
};

// An idempotent producer (acks=all) that owns a thread serving delivery reports.
// With a `transactional.id` it is also a transactional producer (init_transactions() first).
//
// Lifecycle: create() -> produce()* -> flush() -> destroy. The destructor flushes for up to
// `flush_timeout_ms` and then stops the report thread.
// Thread-safety: produce() and flush() may be called from any thread. Delivery callbacks run
// on the report thread, one at a time; they must not block for long.
class Producer {
 public:
  using DeliveryFn = std::function<void(const Delivery&)>;

  // kvision's producer defaults, before the user's -X overrides.
  static Properties default_properties();

  static Result<std::unique_ptr<Producer>> create(const KafkaConfig& config,
                                                  const Properties& extra = {});
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues a record (the value and headers are copied). `on_delivery` runs exactly once, when
  // the broker acknowledged the record or it finally failed. While the local queue is full
  // this waits; it fails only on a fatal producer error.
  Status produce(const OutRecord& record, DeliveryFn on_delivery);

  // Connects and fetches the topic's metadata now, so the first record does not pay for it.
  // Fails when the cluster cannot be reached within timeout_ms or the topic does not exist.
  // A topic created a moment ago is waited for until it is in the metadata of the broker asked.
  Status connect(const std::string& topic, int timeout_ms);
  // The same, returning how many partitions the topic has.
  Result<int32_t> topic_partitions(const std::string& topic, int timeout_ms);

  // Waits until every queued record is delivered or failed.
  Status flush(int timeout_ms);

  // Records queued or in flight.
  int outstanding() const;
  // The largest record this producer may send (message.max.bytes).
  size_t max_message_bytes() const;

  // Transactions (KIP-98). Thread-safety: call from one thread; produce() may still be called
  // from others between begin and commit.
  TxnResult init_transactions(int timeout_ms);
  TxnResult begin_transaction();
  // Adds the consumer's offsets (next offset to read, per partition) and its group metadata
  // (generation and member id, KIP-447) to the transaction.
  TxnResult send_offsets(const Consumer& consumer,
                         const std::vector<std::tuple<std::string, int32_t, int64_t>>& offsets,
                         int timeout_ms);
  TxnResult commit_transaction(int timeout_ms);
  TxnResult abort_transaction(int timeout_ms);

  int flush_timeout_ms = 30000;

 private:
  Producer() = default;
  void poll_loop();
  static void on_delivery_report(rd_kafka_s* rk, const rd_kafka_message_s* msg, void* opaque);
  static void on_error(rd_kafka_s* rk, int err, const char* reason, void* opaque);

  KafkaHandle rk_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fatal_{false};
  std::thread poller_;
};

}  // namespace kv::kafka
