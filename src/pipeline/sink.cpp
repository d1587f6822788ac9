#include "pipeline/sink.h"

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"
#include "kafka/consumer.h"
#include "kafka/record.h"
#include "metrics/kafka_metrics.h"
#include "metrics/stage_metrics.h"
#include "pipeline/sequence_monitor.h"
#include "wire/topics.h"

namespace kv::pipeline {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != stdout) std::fclose(f);
  }
};

class AssignmentListener final : public kafka::RebalanceListener {
 public:
  AssignmentListener(const std::function<void()>& fn, SequenceMonitor& sequences)
      : fn_(fn), sequences_(sequences) {}
  void on_assigned(const std::vector<kafka::TopicPartition>&) override {
    if (fn_) fn_();
  }
  void on_revoking(const std::vector<kafka::TopicPartition>& parts) override {
    sequences_.forget(parts);
  }

 private:
  const std::function<void()>& fn_;
  SequenceMonitor& sequences_;
};

}  // namespace

// The detection record's JSON: the value on `detections`, a header on `processed_images`.
Result<std::string> detection_json(const rd_kafka_message_t* msg) {
  if (kafka::message_topic(msg) == wire::kProcessedTopic) {
    const wire::Headers headers = kafka::message_headers(msg);
    const std::string* json = wire::find_header(headers, wire::kHdrDetections);
    if (json == nullptr)
      return make_error(ErrorCode::kDecode, fmt::format("no '{}' header", wire::kHdrDetections));
    return *json;
  }
  const auto value = kafka::message_value(msg);
  return std::string(reinterpret_cast<const char*>(value.data()), value.size());
}

Result<wire::DetectionRecord> detection_record(const rd_kafka_message_t* msg) {
  auto json = detection_json(msg);
  if (!json) return json.error();
  return wire::decode_detection_record(*json);
}

Result<SinkStats> run_sink(const SinkParams& p, std::stop_token stop) {
  std::unique_ptr<std::FILE, FileCloser> out;
  if (p.write_lines) {
    if (p.output.empty() || p.output == "-") {
      out.reset(stdout);
    } else {
      out.reset(std::fopen(p.output.c_str(), "a"));
      if (!out)
        return make_error(ErrorCode::kIo, fmt::format("cannot open '{}' for appending", p.output));
    }
  }
  SequenceMonitor sequences;
  AssignmentListener listener(p.on_assigned, sequences);
  auto consumer = kafka::Consumer::create(p.kafka, p.group, {}, &listener);
  if (!consumer) return consumer.error();
  if (Status s = (*consumer)->subscribe({p.topic}); !s) return s.error();
  log_info("sink: group '{}' on {} -> {}", p.group, p.topic,
           !p.write_lines ? "summary" : (out.get() == stdout ? "stdout" : p.output));

  metrics::build_info("sink", "");
  metrics::FrameCounter frames("sink");
  const metrics::HistogramProbe latency = metrics::latency_probe("sink");
  metrics::ConsumerLagGauge lag(metrics::global(), p.group);
  rd_kafka_t* handle = (*consumer)->handle();
  const metrics::ScopedCollector collector(metrics::global(),
                                           [&lag, handle] { lag.update(handle); });

  SinkStats stats;
  Status status;
  while (!stop.stop_requested() && (p.max_records <= 0 || stats.records < p.max_records)) {
    auto msg = (*consumer)->poll(100);
    if (!msg) {
      status = msg.error();
      break;
    }
    if (!*msg) continue;
    const rd_kafka_message_t* m = msg->get();
    const int64_t receive_us = wall_now_us();
    auto json = detection_json(m);  // written out as it came
    auto record =
        json ? wire::decode_detection_record(*json) : Result<wire::DetectionRecord>(json.error());
    if (!record) {
      ++stats.bad_records;
      metrics::count_error("sink", "record");
      log_warn("sink: skipping {}[{}]@{}: {}", kafka::message_topic(m), m->partition, m->offset,
               record.error().message);
    } else {
      if (out) {
        std::fwrite(json->data(), 1, json->size(), out.get());
        std::fputc('\n', out.get());
        if (std::fflush(out.get()) != 0) {
          status = make_error(ErrorCode::kIo, fmt::format("writing '{}' failed", p.output));
          break;
        }
      }
      if (p.on_record) p.on_record(*record, receive_us);
      ++stats.records;
      const wire::FrameMeta& f = record->frame;
      frames.count(f.camera, m->len);
      if (f.capture_us > 0) latency.observe(static_cast<double>(receive_us - f.capture_us) / 1e6);
      const auto o = sequences.observe({kafka::message_topic(m), m->partition}, f.camera,
                                       f.session_us, f.seq, record->skipped_before);
      if (o.event == SequenceMonitor::Event::kGap)
        metrics::count_sequence("sink", "gap", static_cast<double>(o.frames));
      if (o.event == SequenceMonitor::Event::kDuplicate)
        metrics::count_sequence("sink", "duplicate", 1);
      if (const std::string line = describe(o, "sink", f.camera, f.seq); !line.empty()) {
        log_warn("{}", line);
      }
    }
    if (Status s = (*consumer)->store_offset(kafka::message_topic(m), m->partition, m->offset + 1);
        !s) {
      log_warn("sink: {}", s.error().message);
    }
  }
  (*consumer)->close();
  const SequenceCounts seq = sequences.total();
  stats.sequence_missing = seq.missing;
  stats.sequence_duplicates = seq.duplicates;
  stats.sequence_skipped = seq.skipped;
  if (seq.missing > 0 || seq.duplicates > 0) {
    log_warn("sink: {} frame(s) missing and {} duplicate(s) in the cameras' sequences", seq.missing,
             seq.duplicates);
  }
  if (seq.skipped > 0) {
    log_info("sink: {} frame(s) skipped by the detectors (stale or dead-lettered), not missing",
             seq.skipped);
  }
  if (!status.ok()) return status.error();
  return stats;
}

}  // namespace kv::pipeline
