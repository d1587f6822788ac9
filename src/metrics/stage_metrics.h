// The metrics every pipeline stage reports, under one set of names (see docs/monitoring.md).
// `stage` is ingest, detect or sink; `camera` is the record key (bounded by the registry).
#pragma once

#include <string>

#include "metrics/registry.h"

namespace kv::metrics {

inline void count_frame(const std::string& stage, const std::string& camera, size_t bytes) {
  if (!enabled()) return;
  Registry& r = global();
  r.counter("kvision_frames_total", "Frames handled, by stage and camera",
            {{"stage", stage}, {"camera", camera}})
      .inc();
  r.counter("kvision_bytes_total", "Frame bytes handled (JPEG), by stage and camera",
            {{"stage", stage}, {"camera", camera}})
      .inc(static_cast<double>(bytes));
}

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

// Time of one step of a stage: decode, encode, preprocess, infer, postprocess, produce.
// A frame a stage chose not to process (`reason`: stale), once the skip is recorded.
inline void count_skipped(const std::string& stage, const std::string& reason) {
  if (!enabled()) return;
  global()
      .counter("kvision_frames_skipped_total",
               "Frames skipped, not processed, and recorded on <topic>.skipped (reason: stale)",
               {{"stage", stage}, {"reason", reason}})
      .inc();
}

inline void observe_step(const std::string& stage, const std::string& step, double seconds) {
  if (!enabled()) return;
  global()
      .histogram("kvision_step_seconds", "Time per frame in each step of a stage",
                 {{"stage", stage}, {"step", step}})
      .observe(seconds);
}

// From the frame's capture time to the stage's result: acknowledged (detect) or consumed (sink).
inline void observe_latency(const std::string& stage, double seconds) {
  if (!enabled()) return;
  global()
      .histogram("kvision_end_to_end_latency_seconds",
                 "Capture time to result acknowledged (detect) or consumed (sink)",
                 {{"stage", stage}}, {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
      .observe(seconds);
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
