// The metrics every pipeline stage reports, under one set of names (see docs/monitoring.md).
// `stage` is ingest, detect or sink; `camera` is the record key (bounded by the registry).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "metrics/registry.h"

namespace kv::metrics {

// --- Probes: a stage's per-frame series, looked up once when it starts --------------------
// Each frame then costs an atomic update (a histogram's own lock), not a lookup by name and
// labels in the registry. A probe made while metrics are off does nothing.

class HistogramProbe {
 public:
  HistogramProbe() = default;
  HistogramProbe(const std::string& name, const std::string& help, const Labels& labels,
                 const std::vector<double>& bounds = latency_buckets())
      : h_(enabled() ? &global().histogram(name, help, labels, bounds) : nullptr) {}
  void observe(double v) const {
    if (h_ != nullptr) h_->observe(v);
  }

 private:
  Histogram* h_ = nullptr;
};

// Time of one step of a stage: decode, encode, preprocess, infer, postprocess, produce, order.
inline HistogramProbe step_probe(const std::string& stage, const std::string& step) {
  return {"kvision_step_seconds",
          "Time per frame in each step of a stage",
          {{"stage", stage}, {"step", step}}};
}

// From the frame's capture time to the stage's result: acknowledged (detect) or consumed (sink).
inline HistogramProbe latency_probe(const std::string& stage) {
  return {"kvision_end_to_end_latency_seconds",
          "Capture time to result acknowledged (detect) or consumed (sink)",
          {{"stage", stage}},
          {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
}

// Frames and bytes a stage handled, per camera. The camera's series are looked up once, on
// its first frame. Thread-safety: count() may be called from any thread.
class FrameCounter {
 public:
  explicit FrameCounter(std::string stage) : stage_(std::move(stage)), enabled_(enabled()) {}
  void count(const std::string& camera, size_t bytes) {
    if (!enabled_) return;
    std::pair<Counter*, Counter*> series;
    {
      std::lock_guard lock(mu_);
      auto [it, created] = cameras_.try_emplace(camera);
      if (created) {
        const Labels labels{{"stage", stage_}, {"camera", camera}};
        it->second = {&global().counter("kvision_frames_total",
                                        "Frames handled, by stage and camera", labels),
                      &global().counter("kvision_bytes_total",
                                        "Frame bytes handled (JPEG), by stage and camera", labels)};
      }
      series = it->second;
    }
    series.first->inc();
    series.second->inc(static_cast<double>(bytes));
  }

 private:
  const std::string stage_;
  const bool enabled_;
  std::mutex mu_;
  std::map<std::string, std::pair<Counter*, Counter*>> cameras_;
};

// --- Events: rare enough to be looked up each time ---------------------------------------

inline void count_error(const std::string& stage, const std::string& kind) {
  if (!enabled()) return;
  global()
      .counter("kvision_errors_total", "Errors by stage and kind",
               {{"stage", stage}, {"kind", kind}})
      .inc();
}

inline void count_dead_letter(const std::string& stage, const std::string& topic) {
  if (!enabled()) return;
  global()
      .counter("kvision_dead_letters_total", "Records sent to a dead-letter topic (acknowledged)",
               {{"stage", stage}, {"topic", topic}})
      .inc();
}

inline void count_delivery_failure(const std::string& stage) {
  if (!enabled()) return;
  global()
      .counter("kvision_delivery_failures_total", "Records the producer could not deliver",
               {{"stage", stage}})
      .inc();
}

// A frame a stage chose not to process (`reason`: stale), once the skip is recorded.
inline void count_skipped(const std::string& stage, const std::string& reason) {
  if (!enabled()) return;
  global()
      .counter("kvision_frames_skipped_total",
               "Frames skipped, not processed, and recorded on <topic>.skipped (reason: stale)",
               {{"stage", stage}, {"reason", reason}})
      .inc();
}

inline void count_sequence(const std::string& stage, const std::string& what, double frames) {
  if (!enabled()) return;
  global()
      .counter("kvision_sequence_anomalies_total",
               "Frames missing from or repeated in a camera's sequence (kind gap or duplicate)",
               {{"stage", stage}, {"kind", what}})
      .inc(frames);
}

// Exactly-once transactions ended by a detector, by result (committed or aborted).
inline void count_transaction(const std::string& result) {
  if (!enabled()) return;
  global()
      .counter("kvision_transactions_total", "Exactly-once transactions, by result",
               {{"result", result}})
      .inc();
}

// A collector's reading of a stage's producer queue.
inline void set_producer_queue(const std::string& stage, int messages) {
  global()
      .gauge("kvision_producer_queue_messages", "Records queued or in flight in a producer",
             {{"stage", stage}})
      .set(messages);
}

inline void build_info(const std::string& component, const std::string& model) {
  global()
      .gauge("kvision_build_info", "kvision version, component and model",
             {{"version", KV_VERSION}, {"component", component}, {"model", model}})
      .set(1);
}

}  // namespace kv::metrics
