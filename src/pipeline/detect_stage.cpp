#include "pipeline/detect_stage.h"

#include <unistd.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>
#include <thread>

#include <fmt/format.h>

#include "common/bounded_queue.h"
#include "common/clock.h"
#include "common/log.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "media/jpeg.h"
#include "metrics/stage_metrics.h"
#include "pipeline/camera_trackers.h"
#include "pipeline/consumer_lag.h"
#include "pipeline/dead_letter.h"
#include "pipeline/offset_tracker.h"
#include "pipeline/ordered_release.h"
#include "pipeline/sequence_monitor.h"
#include "pipeline/track_state_log.h"
#include "wire/detection_record.h"
#include "wire/topics.h"

namespace kv::pipeline {
// Named, not anonymous: DetectStage::Impl holds these, and the unity build would otherwise
// warn that a class with external linkage has members of internal types.
namespace detect_detail {

struct WorkItem {
  kafka::Message msg;
  int64_t enqueued_us = 0;
  uint64_t txn_epoch = 0;  // exactly-once: the work is void if a transaction aborted since
  bool completed = false;  // handed to the in-order release (worker thread only)
};

// What became of an input record: a result, a dead letter, a record of its skipping, or
// nothing (a replay passes records outside its window).
enum class Outcome { kResult, kDeadLetter, kSkipped, kPassed };

// The outputs of one input record still waiting for their acknowledgements.
struct PendingOutputs {
  explicit PendingOutputs(int n) : remaining(n) {}
  std::atomic<int> remaining;
  std::atomic<bool> failed{false};
};

// The per-frame metrics, looked up once when the stage starts.
struct Probes {
  explicit Probes(const std::string& model)
      : inference("kvision_inference_seconds", "Model inference time per frame",
                  {{"model", model}}) {}
  metrics::FrameCounter frames{"detect"};
  metrics::HistogramProbe decode = metrics::step_probe("detect", "decode");
  metrics::HistogramProbe preprocess = metrics::step_probe("detect", "preprocess");
  metrics::HistogramProbe infer = metrics::step_probe("detect", "infer");
  metrics::HistogramProbe postprocess = metrics::step_probe("detect", "postprocess");
  metrics::HistogramProbe produce = metrics::step_probe("detect", "produce");
  metrics::HistogramProbe order = metrics::step_probe("detect", "order");
  metrics::HistogramProbe latency = metrics::latency_probe("detect");
  metrics::HistogramProbe inference;
};

// How long a rebalance or shutdown waits for in-flight frames before giving up on them.
constexpr int kDrainTimeoutMs = 60000;

}  // namespace detect_detail
using namespace detect_detail;  // NOLINT: this file's own helpers

class DetectStage::Impl final : public kafka::RebalanceListener {
 public:
  Impl(DetectStageParams params, std::vector<std::unique_ptr<detect::Detector>> detectors)
      : params_(std::move(params)),
        detectors_(std::move(detectors)),
        queue_(2 * detectors_.size()) {
    if (params_.track) {
      trackers_ = std::make_unique<CameraTrackers>(params_.tracker);
      state_log_.emplace(params_.kafka, params_.state_topic, params_.topics,
                         params_.track_state_window_ms);
    }
  }

  Status run(std::stop_token stop);
  const std::string& model_name() const { return detectors_.front()->name(); }

  void on_assigned(const std::vector<kafka::TopicPartition>& parts) override {
    stats.assigned_partitions.fetch_add(static_cast<int>(parts.size()));
    assigned_.insert(parts.begin(), parts.end());
    if (paused_ && !consumer_->pause().ok()) paused_ = false;  // new partitions wait too
    restore_tracks(parts);  // before any of their frames is fetched
  }
  void on_revoking(const std::vector<kafka::TopicPartition>& parts) override {
    stats.assigned_partitions.fetch_sub(static_cast<int>(parts.size()));
    abandon_held(parts);
    sequences_.forget(parts);
    if (params_.exactly_once && !fatal_) return revoke_transactional(parts);
    // Everything taken from the revoked partitions finishes (and stores its offset) first, so
    // the commit that follows covers it and the next owner does not redo it.
    if (!tracker_.wait_idle(kDrainTimeoutMs)) {
      log_warn(
          "detect: {} frames still in flight at rebalance; they will be processed again by the "
          "next owner",
          tracker_.in_flight());
    }
    release_.forget(parts);  // what is still running there is not published
    for (const kafka::TopicPartition& tp : parts) assigned_.erase(tp);
    forget_tracks(parts);
  }

  DetectStats stats;

 private:
  void worker_loop(detect::Detector& detector);
  // Tracking: reads the newest tracker state of the cameras on these input partitions (poll
  // thread, before their frames), or drops it when they go.
  void restore_tracks(const std::vector<kafka::TopicPartition>& parts);
  void forget_tracks(const std::vector<kafka::TopicPartition>& parts);
  void process(detect::Detector& detector, const std::shared_ptr<WorkItem>& work);
  // Hands back records taken but not started, of `parts` (all if empty).
  void abandon_held(const std::vector<kafka::TopicPartition>& parts);
  // Replay: whether the record is in the window (noting a partition that is done), passing
  // one that is not, and whether every assigned partition is done with nothing in flight.
  bool in_replay(const kafka::Message& m);
  void pass(const std::shared_ptr<WorkItem>& work);
  bool replay_finished() const;
  // Notes gaps and duplicates in the camera's sequence numbers (poll thread).
  void check_sequence(const kafka::Message& m);
  void reject(const std::shared_ptr<WorkItem>& work, const std::string& stage,
              const std::string& error);
  void skip(const std::shared_ptr<WorkItem>& work, const std::string& camera, int64_t age_ms);
  // The staleness limit for a frame, in ms; 0: never skip it.
  int64_t staleness_limit_ms(const wire::FrameMeta& meta) const;
  // Hands a finished input record to the in-order release: `send` publishes its outputs once
  // every record taken before it from its partition has left, and is told how many frames of
  // its camera just before it were not published (skipped or dead-lettered). Exactly-once:
  // inside the open transaction (not while it commits), and not at all for work voided by an
  // abort.
  void complete(const std::shared_ptr<WorkItem>& work, const std::string& camera, Outcome outcome,
                std::function<Status(int64_t skipped_before)> send);

  // Exactly-once, on the poll thread: commits the open transaction with the input offsets of
  // the records whose outputs it holds, and begins the next. An abortable failure aborts it
  // and rewinds the consumer to the committed offsets, so that work is redone.
  Status commit_transaction(const std::vector<kafka::TopicPartition>& rewind_skip = {});
  void abort_and_rewind(const std::vector<kafka::TopicPartition>& skip);
  void revoke_transactional(const std::vector<kafka::TopicPartition>& parts);
  // Called once all outputs of an input record are acknowledged.
  void finish(const kafka::TopicPartition& tp, int64_t offset);
  // capture_us: the frame's capture time, for the latency metric (0 for a dead letter).
  kafka::Producer::DeliveryFn on_output(std::shared_ptr<PendingOutputs> pending,
                                        kafka::TopicPartition tp, int64_t offset, Outcome outcome,
                                        int64_t capture_us = 0);
  // The same, for a record whose one output stands for it (a dead letter or a skip record).
  kafka::Producer::DeliveryFn on_single_output(const kafka::Message& m, Outcome outcome) {
    return on_output(std::make_shared<PendingOutputs>(1), {std::string(m.topic()), m.partition()},
                     m.offset(), outcome);
  }

  DetectStageParams params_;
  std::vector<std::unique_ptr<detect::Detector>> detectors_;
  BoundedQueue<WorkItem> queue_;
  std::unique_ptr<Probes> probes_;  // made when run() starts (metrics may be turned on late)
  OffsetTracker tracker_;
  OrderedRelease release_;
  // By camera: frames skipped or dead-lettered since its last result. Touched only by
  // releases, which run one at a time in order.
  std::map<std::string, int64_t> unpublished_;
  std::unique_ptr<CameraTrackers> trackers_;  // null with tracking off
  std::optional<TrackStateLog> state_log_;    // with tracking on
  // Declared before the producer so it outlives it: delivery reports that arrive while the
  // producer is destroyed still store their offsets through the consumer.
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::Producer> producer_;
  std::atomic<bool> failed_{false};
  bool paused_ = false;        // fetching paused while held_ waits (poll thread)
  std::deque<WorkItem> held_;  // taken from Kafka, waiting for room in the queue (poll thread)
  SequenceMonitor sequences_;  // poll thread

  // Exactly-once state. Workers publish under a shared lock; the poll thread commits under
  // the exclusive one, so a transaction holds the outputs of exactly the offsets it commits.
  std::shared_mutex txn_mu_;
  std::atomic<uint64_t> txn_epoch_{0};
  int64_t txn_started_us_ = 0;                     // poll thread only
  std::set<kafka::TopicPartition> assigned_;       // poll thread only
  std::set<int32_t> replay_done_;                  // poll thread only
  std::map<kafka::TopicPartition, int64_t> sent_;  // offsets committed so far (poll thread)
  std::optional<Error> fatal_;                     // the producer was fenced
};

Status DetectStage::Impl::run(std::stop_token stop) {
  const bool eos = params_.exactly_once;
  kafka::Properties producer_props;
  kafka::Properties consumer_props;
  std::string txn_id = params_.transactional_id;
  if (eos) {
    if (txn_id.empty()) {
      char host[256] = "host";
      ::gethostname(host, sizeof host - 1);
      txn_id = fmt::format("{}-{}-{}", params_.group, host, ::getpid());
    }
    producer_props = {{"transactional.id", txn_id},
                      {"transaction.timeout.ms", std::to_string(params_.transaction_timeout_ms)}};
    consumer_props = {{"enable.auto.commit", "false"}};  // offsets go with the transactions
  }
  auto producer = kafka::Producer::create(params_.kafka, producer_props);
  if (!producer) return producer.error();
  producer_ = std::move(*producer);
  for (const std::string& topic : {params_.processed_topic, params_.detections_topic}) {
    if (topic.empty()) continue;
    if (Status s = producer_->connect(topic, 30000); !s) return s;
  }
  if (trackers_) {
    if (Status s = state_log_->prepare(*producer_); !s) return s;
  }
  if (eos) {
    // Fences an older instance with this id and aborts its open transaction.
    if (kafka::TxnResult r = producer_->init_transactions(30000); !r.ok()) {
      return make_error(ErrorCode::kKafka, r.message);
    }
    if (kafka::TxnResult r = producer_->begin_transaction(); !r.ok()) {
      return make_error(ErrorCode::kKafka, r.message);
    }
    txn_started_us_ = mono_now_us();
  }
  auto consumer = kafka::Consumer::create(params_.kafka, params_.group, consumer_props, this);
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  if (Status s = consumer_->subscribe({params_.input_topic}); !s) return s;
  metrics::build_info("detect", model_name());
  probes_ = std::make_unique<Probes>(model_name());
  ConsumerLagGauge lag(metrics::global(), params_.group);
  const metrics::ScopedCollector collector(metrics::global(), [this, &lag] {
    lag.update(*consumer_);
    metrics::set_producer_queue("detect", producer_->outstanding());
    metrics::global()
        .gauge("kvision_assigned_partitions", "Input partitions a stage owns",
               {{"stage", "detect"}})
        .set(stats.assigned_partitions.load());
  });
  const std::string engine = detectors_.front()->engine();
  log_info("detect: group '{}' on {}, model {}{}, {} worker thread(s), {}", params_.group,
           params_.input_topic, model_name(), engine.empty() ? "" : " (" + engine + ")",
           detectors_.size(),
           eos ? fmt::format("exactly-once (transactional id '{}')", txn_id) : "at-least-once");

  std::vector<std::jthread> workers;
  for (auto& d : detectors_) workers.emplace_back([this, &d] { worker_loop(*d); });

  Status result;
  while (!stop.stop_requested() && !failed_.load() && !fatal_) {
    if (params_.replay.enabled && replay_finished()) {
      log_info("detect: replay finished on {} partition(s), {} frame(s) processed",
               assigned_.size(), stats.processed.load());
      break;
    }
    if (eos && mono_now_us() - txn_started_us_ >= int64_t{params_.transaction_interval_ms} * 1000) {
      if (Status s = commit_transaction(); !s) {
        result = s;
        break;
      }
    }
    // Records wait here while the workers are busy. If that lasts (slow inference), fetching
    // pauses and the loop keeps polling, so the group never sees a member that stopped
    // polling (max.poll.interval.ms) and no rebalance loop starts.
    while (!held_.empty() && queue_.push_for(held_.front(), paused_ ? 100 : 500)) held_.pop_front();
    if (!held_.empty() && !paused_) {
      paused_ = consumer_->pause().ok();
      if (paused_) log_debug("detect: workers busy; fetching paused");
    } else if (held_.empty() && paused_) {
      paused_ = !consumer_->resume().ok();
    }
    const int wait_ms = !held_.empty() ? 0
                        : eos          ? std::min(100, params_.transaction_interval_ms)
                                       : 100;
    auto msg = consumer_->poll(wait_ms);
    if (!msg) {
      result = msg.error();
      break;
    }
    if (!*msg) continue;
    stats.consumed.fetch_add(1);
    const kafka::TopicPartition tp{std::string(msg->topic()), msg->partition()};
    if (!tracker_.begin(tp, msg->offset())) continue;
    const uint64_t epoch = txn_epoch_.load();
    release_.enter(tp, msg->offset(), epoch);
    if (params_.replay.enabled && !in_replay(*msg)) {
      pass(std::make_shared<WorkItem>(WorkItem{std::move(*msg), mono_now_us(), epoch}));
      continue;
    }
    check_sequence(*msg);
    held_.push_back(WorkItem{std::move(*msg), mono_now_us(), epoch});
  }

  // Orderly stop: finish what was taken, wait for the acknowledgements, then commit and leave.
  // Records never started are handed back (not committed).
  abandon_held({});
  queue_.close();
  workers.clear();
  if (eos && result.ok() && !fatal_) {
    if (Status s = commit_transaction(); !s) result = s;
  }
  if (fatal_ && result.ok()) result = *fatal_;
  if (Status s = producer_->flush(30000); !s) log_error("detect: {}", s.error().message);
  if (!tracker_.wait_idle(5000)) {
    log_warn("detect: {} frames unacknowledged at shutdown; their offsets stay uncommitted",
             tracker_.in_flight());
  }
  consumer_->close();
  if (failed_.load() && result.ok()) {
    result = make_error(ErrorCode::kKafka,
                        "results could not be delivered; uncommitted frames will be redelivered");
  }
  return result;
}

void DetectStage::Impl::abandon_held(const std::vector<kafka::TopicPartition>& parts) {
  std::map<kafka::TopicPartition, int64_t> lowest;
  std::erase_if(held_, [&](const WorkItem& item) {
    const kafka::TopicPartition tp{std::string(item.msg.topic()), item.msg.partition()};
    if (!parts.empty() && std::find(parts.begin(), parts.end(), tp) == parts.end()) return false;
    auto [it, created] = lowest.try_emplace(tp, item.msg.offset());
    if (!created) it->second = std::min(it->second, item.msg.offset());
    return true;
  });
  for (const auto& [tp, offset] : lowest) {
    tracker_.abandon(tp, offset);
    release_.abandon(tp, offset);
  }
}

bool DetectStage::Impl::in_replay(const kafka::Message& m) {
  const DetectStageParams::Replay& r = params_.replay;
  const int64_t ts = m.timestamp_ms();
  auto end = r.ends.find(m.partition());
  if (end == r.ends.end() || m.offset() + 1 >= end->second || ts > r.to_ms)
    replay_done_.insert(m.partition());
  if (end == r.ends.end() || m.offset() >= end->second) return false;  // newer than the replay
  if (ts < r.from_ms || ts > r.to_ms) return false;
  return r.camera.empty() || m.key() == r.camera;
}

void DetectStage::Impl::pass(const std::shared_ptr<WorkItem>& work) {
  stats.passed.fetch_add(1);
  const kafka::TopicPartition tp{std::string(work->msg.topic()), work->msg.partition()};
  const int64_t offset = work->msg.offset();
  complete(work, std::string(work->msg.key()), Outcome::kPassed, [this, tp, offset](int64_t) {
    if (!params_.exactly_once) finish(tp, offset);  // else committed with the transaction
    return ok_status();
  });
}

bool DetectStage::Impl::replay_finished() const {
  if (assigned_.empty() || !held_.empty() || tracker_.in_flight() > 0) return false;
  return std::all_of(assigned_.begin(), assigned_.end(), [this](const kafka::TopicPartition& tp) {
    return replay_done_.count(tp.partition) != 0 || params_.replay.ends.count(tp.partition) == 0;
  });
}

void DetectStage::Impl::check_sequence(const kafka::Message& m) {
  auto meta = wire::decode_frame_headers(m.headers());
  if (!meta) return;  // dead-lettered by a worker
  const auto o = sequences_.observe({std::string(m.topic()), m.partition()}, meta->camera,
                                    meta->session_us, meta->seq);
  if (o.event == SequenceMonitor::Event::kGap)
    metrics::count_sequence("detect", "gap", static_cast<double>(o.frames));
  if (o.event == SequenceMonitor::Event::kDuplicate)
    metrics::count_sequence("detect", "duplicate", 1);
  const std::string line = describe(o, "detect", meta->camera, meta->seq);
  if (line.empty()) return;
  if (o.event == SequenceMonitor::Event::kNewSession) {
    log_info("{}", line);
  } else {
    log_warn("{}", line);
  }
  const SequenceCounts total = sequences_.total();
  stats.sequence_missing = total.missing;
  stats.sequence_duplicates = total.duplicates;
}

void DetectStage::Impl::worker_loop(detect::Detector& detector) {
  while (auto item = queue_.pop()) {
    auto work = std::make_shared<WorkItem>(std::move(*item));
    try {
      process(detector, work);
    } catch (const std::exception& e) {
      // A last resort: a library threw where it should have returned an error. The frame is
      // dead-lettered and the worker carries on.
      const std::string what = fmt::format("unexpected exception: {}", e.what());
      if (!work->completed) {
        reject(work, "infer", what);
      } else {
        log_error("detect: {} after the frame's outputs were queued", what);
      }
    }
  }
}

void DetectStage::Impl::finish(const kafka::TopicPartition& tp, int64_t offset) {
  if (auto next = tracker_.complete(tp, offset)) {
    if (Status s = consumer_->store_offset(tp.topic, tp.partition, *next); !s) {
      log_debug("detect: {}", s.error().message);  // the partition was revoked meanwhile
    }
  }
}

void DetectStage::Impl::complete(const std::shared_ptr<WorkItem>& work, const std::string& camera,
                                 Outcome outcome, std::function<Status(int64_t)> send) {
  work->completed = true;
  const kafka::Message& m = work->msg;
  kafka::TopicPartition tp{std::string(m.topic()), m.partition()};
  const int64_t offset = m.offset();
  // Exactly-once: workers release under the shared lock and the poll thread commits under the
  // exclusive one, so a transaction holds the outputs of exactly the offsets it commits.
  std::shared_lock<std::shared_mutex> txn_lock;
  if (params_.exactly_once) txn_lock = std::shared_lock(txn_mu_);
  auto outputs = std::make_shared<std::function<Status(int64_t)>>(std::move(send));
  auto release = [this, camera, outcome, outputs, tp, offset](int64_t waited_us) {
    probes_->order.observe(static_cast<double>(waited_us) / 1e6);
    int64_t& unpublished = unpublished_[camera];
    int64_t skipped_before = 0;
    if (outcome == Outcome::kResult) {
      skipped_before = std::exchange(unpublished, 0);
    } else if (outcome != Outcome::kPassed) {
      ++unpublished;
    }
    if (Status s = (*outputs)(skipped_before); !s) {
      log_error("detect: {}", s.error().message);
      failed_ = true;
      return;
    }
    if (params_.exactly_once) tracker_.complete(tp, offset);  // committed with the transaction
  };
  if (release_.finish(tp, offset, work->txn_epoch, std::move(release))) return;
  if (params_.exactly_once) return;  // voided by an abort: read again and redone
  // At-least-once, and its partition was revoked while it ran (after the drain timed out): it
  // is published anyway, out of turn, since the offset tracker may already have let a
  // redelivery of it pass. The next owner may redo it: a duplicate, never a loss.
  if (Status s = (*outputs)(0); !s) {
    log_error("detect: {}", s.error().message);
    failed_ = true;
  }
}

Status DetectStage::Impl::commit_transaction(const std::vector<kafka::TopicPartition>& skip) {
  constexpr int kTxnTimeoutMs = 30000;
  std::unique_lock lock(txn_mu_);
  std::vector<std::tuple<std::string, int32_t, int64_t>> offsets;
  for (const auto& [tp, next] : tracker_.committable()) {
    auto sent = sent_.find(tp);
    if (assigned_.count(tp) == 0 || (sent != sent_.end() && sent->second >= next)) continue;
    offsets.emplace_back(tp.topic, tp.partition, next);
  }
  kafka::TxnResult r;
  if (!offsets.empty()) r = producer_->send_offsets(*consumer_, offsets, kTxnTimeoutMs);
  if (r.ok()) r = producer_->commit_transaction(kTxnTimeoutMs);
  if (r.ok()) {
    for (const auto& [topic, partition, next] : offsets) sent_[{topic, partition}] = next;
    stats.transactions_committed.fetch_add(1);
    metrics::count_transaction("committed");
  } else if (r.kind == kafka::TxnResult::kFatal) {
    fatal_ = make_error(ErrorCode::kKafka,
                        fmt::format("{} (fenced: another instance took this transactional id, "
                                    "or the transaction timed out); its work will be redone",
                                    r.message));
    return *fatal_;
  } else {
    log_warn("detect: {}; aborting and redoing the transaction's frames", r.message);
    abort_and_rewind(skip);
    if (fatal_) return *fatal_;
  }
  if (kafka::TxnResult b = producer_->begin_transaction(); !b.ok()) {
    fatal_ = make_error(ErrorCode::kKafka, b.message);
    return *fatal_;
  }
  txn_started_us_ = mono_now_us();
  return ok_status();
}

// Runs under the exclusive transaction lock, on the poll thread.
void DetectStage::Impl::abort_and_rewind(const std::vector<kafka::TopicPartition>& skip) {
  if (kafka::TxnResult r = producer_->abort_transaction(30000); !r.ok()) {
    fatal_ = make_error(ErrorCode::kKafka, r.message);
    return;
  }
  stats.transactions_aborted.fetch_add(1);
  metrics::count_transaction("aborted");
  txn_epoch_.fetch_add(1);  // work still in flight is void
  tracker_.reset();
  release_.reset();
  unpublished_.clear();
  held_.clear();
  sequences_.reset();  // what is read again is not a duplicate
  // Read again from the committed offsets (from the start where nothing is committed).
  std::vector<kafka::TopicPartition> rewind;
  for (const kafka::TopicPartition& tp : assigned_) {
    if (std::find(skip.begin(), skip.end(), tp) != skip.end()) continue;
    rewind.push_back(tp);
    sent_.erase(tp);
  }
  if (Status s = consumer_->rewind_to_committed(rewind, 10000); !s) {
    fatal_ = make_error(ErrorCode::kKafka, fmt::format("cannot redo work: {}", s.error().message));
  }
  // The trackers saw frames whose results were just aborted: back to the committed state.
  if (trackers_) {
    trackers_->clear();
    restore_tracks(rewind);
  }
}

void DetectStage::Impl::restore_tracks(const std::vector<kafka::TopicPartition>& parts) {
  if (trackers_) stats.tracks_restored.fetch_add(state_log_->restore(parts, *trackers_));
}

void DetectStage::Impl::forget_tracks(const std::vector<kafka::TopicPartition>& parts) {
  if (!trackers_) return;
  std::vector<int32_t> numbers;
  for (const kafka::TopicPartition& tp : parts) numbers.push_back(tp.partition);
  trackers_->forget(numbers);
}

void DetectStage::Impl::revoke_transactional(const std::vector<kafka::TopicPartition>& parts) {
  // Everything taken is published into the open transaction, which commits with its offsets
  // before the partitions go: the next owner starts exactly after them.
  if (!tracker_.wait_idle(kDrainTimeoutMs)) {
    log_warn("detect: {} frames still in flight at rebalance; aborting their transaction",
             tracker_.in_flight());
    std::unique_lock lock(txn_mu_);
    abort_and_rewind(parts);
    if (!fatal_) {
      if (kafka::TxnResult b = producer_->begin_transaction(); !b.ok())
        fatal_ = make_error(ErrorCode::kKafka, b.message);
      txn_started_us_ = mono_now_us();
    }
  } else if (Status s = commit_transaction(parts); !s) {
    log_error("detect: {}", s.error().message);
  }
  tracker_.forget(parts);
  release_.forget(parts);
  for (const kafka::TopicPartition& tp : parts) {
    assigned_.erase(tp);
    sent_.erase(tp);
  }
  forget_tracks(parts);
}

kafka::Producer::DeliveryFn DetectStage::Impl::on_output(std::shared_ptr<PendingOutputs> pending,
                                                         kafka::TopicPartition tp, int64_t offset,
                                                         Outcome outcome, int64_t capture_us) {
  return [this, pending = std::move(pending), tp = std::move(tp), offset, outcome,
          capture_us](const kafka::Delivery& d) {
    if (!d.status.ok()) {
      pending->failed = true;
      stats.delivery_failures.fetch_add(1);
      metrics::count_delivery_failure("detect");
      log_error("detect: {}", d.status.error().message);
      failed_ = true;
    }
    if (pending->remaining.fetch_sub(1) != 1 || pending->failed.load()) return;
    switch (outcome) {
      case Outcome::kResult:
        stats.processed.fetch_add(1);
        if (capture_us > 0) {
          probes_->latency.observe(static_cast<double>(wall_now_us() - capture_us) / 1e6);
        }
        break;
      case Outcome::kDeadLetter:
        stats.dead_lettered.fetch_add(1);
        metrics::count_dead_letter("detect", tp.topic + std::string(wire::kDeadLetterSuffix));
        break;
      case Outcome::kSkipped:
        stats.skipped.fetch_add(1);
        metrics::count_skipped("detect", "stale");
        break;
      case Outcome::kPassed:
        break;
    }
    if (!params_.exactly_once) finish(tp, offset);  // else committed with the transaction
  };
}

void DetectStage::Impl::reject(const std::shared_ptr<WorkItem>& work, const std::string& stage,
                               const std::string& error) {
  const kafka::Message& msg = work->msg;
  stats.bad_records.fetch_add(1);
  metrics::count_error("detect", stage);
  log_warn("detect: skipping {} ({} stage): {}; sent to {}{}", msg.where(), stage, error,
           msg.topic(), wire::kDeadLetterSuffix);
  complete(work, std::string(msg.key()), Outcome::kDeadLetter, [this, work, stage, error](int64_t) {
    const kafka::Message& m = work->msg;
    return dead_letter(*producer_, m, stage, error, on_single_output(m, Outcome::kDeadLetter));
  });
}

void DetectStage::Impl::skip(const std::shared_ptr<WorkItem>& work, const std::string& camera,
                             int64_t age_ms) {
  complete(work, camera, Outcome::kSkipped, [this, work, age_ms](int64_t) {
    const kafka::Message& m = work->msg;
    return skip_record(*producer_, m, "stale", age_ms, on_single_output(m, Outcome::kSkipped));
  });
}

int64_t DetectStage::Impl::staleness_limit_ms(const wire::FrameMeta& meta) const {
  if (meta.capture_us <= 0) return 0;  // no capture time: its age is unknown
  return params_.max_staleness_ms >= 0 ? params_.max_staleness_ms : meta.stale_after_ms;
}

void DetectStage::Impl::process(detect::Detector& detector, const std::shared_ptr<WorkItem>& work) {
  const kafka::Message& m = work->msg;
  auto rec = std::make_shared<wire::DetectionRecord>();
  rec->timings.queue_ms = static_cast<double>(mono_now_us() - work->enqueued_us) / 1000.0;
  auto headers = std::make_shared<wire::Headers>(m.headers());
  auto meta = wire::decode_frame_headers(*headers);
  if (!meta) return reject(work, "headers", meta.error().message);
  if (const int64_t limit = staleness_limit_ms(*meta); limit > 0) {
    const int64_t age_ms = (wall_now_us() - meta->capture_us) / 1000;
    if (age_ms > limit) return skip(work, meta->camera, age_ms);
  }
  Stopwatch sw;
  // Decoded only as large as the model can use (libjpeg scales inside the IDCT); the boxes
  // are scaled back to the frame.
  cv::Size original;
  auto image = media::decode_jpeg_at_least(
      m.value(), [&](cv::Size frame) { return detector.source_size_for(frame); }, &original);
  if (!image) return reject(work, "decode", image.error().message);
  rec->timings.decode_ms = sw.lap_ms();
  if (params_.delay_ms > 0 || params_.delay_jitter_ms > 0) {
    thread_local std::minstd_rand rng(std::random_device{}());
    const int jitter = params_.delay_jitter_ms > 0
                           ? std::uniform_int_distribution<int>(0, params_.delay_jitter_ms)(rng)
                           : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(params_.delay_ms + jitter));
  }
  detect::DetectTimings dt;
  auto dets = detector.detect(*image, &dt);
  if (!dets) return reject(work, "infer", dets.error().message);
  const float sx = static_cast<float>(original.width) / static_cast<float>(image->cols);
  const float sy = static_cast<float>(original.height) / static_cast<float>(image->rows);
  for (detect::Detection& d : *dets) {
    d.box = cv::Rect2f(d.box.x * sx, d.box.y * sy, d.box.width * sx, d.box.height * sy);
  }

  rec->frame = std::move(*meta);
  rec->frame.width = original.width;
  rec->frame.height = original.height;
  rec->source = {std::string(m.topic()), m.partition(), m.offset()};
  rec->model = detector.name();
  rec->timings.preprocess_ms = dt.preprocess_ms;
  rec->timings.infer_ms = dt.infer_ms;
  rec->timings.postprocess_ms = dt.postprocess_ms;
  for (const detect::Detection& d : *dets) {
    rec->detections.push_back({d.class_id,
                               detector.label(d.class_id),
                               d.score,
                               {d.box.x, d.box.y, d.box.width, d.box.height}});
  }
  rec->processed_us = wall_now_us();
  probes_->frames.count(rec->frame.camera, m.size());
  probes_->decode.observe(rec->timings.decode_ms / 1000.0);
  probes_->preprocess.observe(dt.preprocess_ms / 1000.0);
  probes_->infer.observe(dt.infer_ms / 1000.0);
  probes_->postprocess.observe(dt.postprocess_ms / 1000.0);
  probes_->inference.observe(dt.infer_ms / 1000.0);

  // Without tracking, encoded here, in parallel with the other workers, and again at release
  // only in the rare case that frames before it were skipped. With tracking, the track IDs
  // are known only at release.
  auto encoded = std::make_shared<std::string>(trackers_ ? std::string()
                                                         : wire::encode_detection_record(*rec));

  // Published in input order: the record waits here for its partition's earlier frames.
  const std::string camera = rec->frame.camera;
  complete(
      work, camera, Outcome::kResult, [this, work, rec, headers, encoded](int64_t skipped_before) {
        const kafka::Message& msg = work->msg;
        // The tracker runs here, where the camera's frames leave in capture order.
        std::string state;
        if (trackers_) state = trackers_->apply(*rec);
        if (skipped_before > 0 || trackers_) {
          rec->skipped_before = skipped_before;
          *encoded = wire::encode_detection_record(*rec);
        }
        const std::string& json = *encoded;
        const kafka::TopicPartition tp{rec->source.topic, msg.partition()};
        const bool with_image = !params_.processed_topic.empty();
        auto pending =
            std::make_shared<PendingOutputs>(1 + (trackers_ ? 1 : 0) + (with_image ? 1 : 0));
        kafka::OutRecord processed;
        processed.topic = params_.processed_topic;
        processed.key = rec->frame.camera;
        processed.value = msg.value();
        processed.headers = std::move(*headers);
        processed.headers.emplace_back(wire::kHdrDetections, json);
        processed.timestamp_ms = rec->frame.capture_us / 1000;
        kafka::OutRecord detections;
        detections.topic = params_.detections_topic;
        detections.key = rec->frame.camera;
        detections.value = {reinterpret_cast<const uint8_t*>(json.data()), json.size()};
        detections.timestamp_ms = processed.timestamp_ms;
        kafka::OutRecord state_record;
        if (trackers_) state_record = state_log_->record(rec->frame.camera, msg.partition(), state);
        Stopwatch produce_time;
        for (const kafka::OutRecord* out : {&processed, &detections, &state_record}) {
          if (out == &state_record && !trackers_) break;
          if (out == &processed && !with_image) continue;
          if (Status s = producer_->produce(
                  *out,
                  on_output(pending, tp, msg.offset(), Outcome::kResult, rec->frame.capture_us));
              !s)
            return s;
        }
        probes_->produce.observe(produce_time.elapsed_ms() / 1000.0);
        return ok_status();
      });
}

Result<std::unique_ptr<DetectStage>> DetectStage::create(const DetectStageParams& params) {
  if (params.threads < 1) return make_error(ErrorCode::kInvalidArgument, "--threads must be >= 1");
  std::vector<std::unique_ptr<detect::Detector>> detectors;
  for (int i = 0; i < params.threads; ++i) {
    auto d = detect::make_detector(params.detector);
    if (!d) return d.error();
    detectors.push_back(std::move(*d));
  }
  return std::unique_ptr<DetectStage>(
      new DetectStage(std::make_unique<Impl>(params, std::move(detectors))));
}

DetectStage::DetectStage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DetectStage::~DetectStage() = default;
Status DetectStage::run(std::stop_token stop) {
  return impl_->run(std::move(stop));
}
const DetectStats& DetectStage::stats() const {
  return impl_->stats;
}
const std::string& DetectStage::model_name() const {
  return impl_->model_name();
}

}  // namespace kv::pipeline
