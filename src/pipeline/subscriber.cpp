#include "pipeline/subscriber.h"

#include <map>

#include "common/clock.h"
#include "common/log.h"
#include "metrics/registry.h"
#include "metrics/stage_metrics.h"

namespace kv::pipeline {
namespace {

// The loop's state: offsets of records taken and not yet flushed, per partition.
class Loop final : public kafka::RebalanceListener {
 public:
  Loop(kafka::RecordSource& source, Subscriber& stage, const SubscriberOptions& options)
      : source_(source), stage_(stage), options_(options) {}

  // Once it has failed, nothing more is flushed or stored, not even at the revocation that
  // closing the source brings.
  Status run(std::stop_token stop) {
    Status s = poll_until_done(stop);
    if (failed_.ok()) failed_ = s;
    return s;
  }

  void on_assigned(const std::vector<kafka::TopicPartition>& partitions) override {
    stage_.on_assigned(partitions);
  }

  void on_revoking(const std::vector<kafka::TopicPartition>& partitions) override {
    // What was taken is made durable and its offsets stored while the partitions are still
    // ours: they are committed right after this returns.
    if (failed_.ok()) failed_ = flush();
    for (const kafka::TopicPartition& tp : partitions) pending_.erase(tp);
    stage_.on_revoking(partitions);
  }

  SubscriberStats stats;

 private:
  Status poll_until_done(std::stop_token stop) {
    while (!stop.stop_requested() &&
           (options_.max_records <= 0 || stats.records < options_.max_records)) {
      auto msg = source_.poll(options_.poll_ms);
      if (!msg) return msg.error();
      if (!failed_) return failed_;  // the flush before a revocation failed
      if (*msg) {
        if (Status s = take(*msg); !s) return s;
      }
      if (!pending_.empty() && stage_.due(mono_now_us())) {
        if (Status s = flush(); !s) return s;
      }
    }
    return flush();
  }

  Status take(const kafka::Message& m) {
    Status s = stage_.take(m);
    if (!s) {
      if (s.error().code != ErrorCode::kDecode) return s;
      ++stats.bad_records;
      metrics::count_error(options_.stage, "record");
      log_warn("{}: skipping {}: {}", options_.stage, m.where(), s.error().message);
    } else {
      ++stats.records;
    }
    pending_[{std::string(m.topic()), m.partition()}] = m.offset() + 1;
    return ok_status();
  }

  Status flush() {
    if (pending_.empty()) return ok_status();
    if (Status s = stage_.flush(); !s) return s;
    // Durable now: only then are the offsets handed to the client for committing.
    for (const auto& [tp, next] : pending_) {
      if (Status s = source_.store_offset(tp.topic, tp.partition, next); !s) {
        ++stats.store_failed;
        log_error("{}: {}; records after the last commit will be read again", options_.stage,
                  s.error().message);
        if (metrics::enabled()) {
          metrics::global()
              .counter("kvision_offset_store_failures_total",
                       "Offsets of handled records the Kafka client refused to store",
                       {{"stage", options_.stage}})
              .inc();
        }
      }
    }
    pending_.clear();
    return ok_status();
  }

  kafka::RecordSource& source_;
  Subscriber& stage_;
  const SubscriberOptions& options_;
  std::map<kafka::TopicPartition, int64_t> pending_;  // next offset to commit
  Status failed_;
};

}  // namespace

Result<SubscriberStats> run_subscriber(kafka::RecordSource& source, Subscriber& stage,
                                       const SubscriberOptions& options, std::stop_token stop) {
  Loop loop(source, stage, options);
  source.set_listener(&loop);
  const Status status = loop.run(stop);
  source.close();  // may revoke partitions: the loop still listens
  source.set_listener(nullptr);
  if (!status) return status.error();
  return loop.stats;
}

}  // namespace kv::pipeline
