#include "pipeline/sink.h"

#include <memory>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"
#include "kafka/consumer.h"
#include "pipeline/consumer_lag.h"
#include "pipeline/result_record.h"

namespace kv::pipeline {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != stdout) std::fclose(f);
  }
};

}  // namespace

SinkStage::SinkStage(std::FILE* out, std::string out_name, const SinkParams& params)
    : out_(out),
      out_name_(std::move(out_name)),
      params_(params),
      latency_(metrics::latency_probe("sink")) {}

Status SinkStage::take(const kafka::Message& m) {
  const int64_t receive_us = wall_now_us();
  auto json = detection_json(m);  // written out as it came
  if (!json) return json.error();
  auto record = wire::decode_detection_record(*json);
  if (!record) return record.error();
  if (out_ != nullptr) {
    std::fwrite(json->data(), 1, json->size(), out_);
    std::fputc('\n', out_);
    if (std::fflush(out_) != 0)
      return make_error(ErrorCode::kIo, fmt::format("writing '{}' failed", out_name_));
  }
  if (params_.on_record) params_.on_record(*record, receive_us);
  const wire::FrameMeta& f = record->frame;
  frames_.count(f.camera, m.size());
  if (f.capture_us > 0) latency_.observe(static_cast<double>(receive_us - f.capture_us) / 1e6);
  const auto o = sequences_.observe({std::string(m.topic()), m.partition()}, f.camera, f.session_us,
                                    f.seq, record->skipped_before);
  if (o.event == SequenceMonitor::Event::kGap)
    metrics::count_sequence("sink", "gap", static_cast<double>(o.frames));
  if (o.event == SequenceMonitor::Event::kDuplicate)
    metrics::count_sequence("sink", "duplicate", 1);
  if (const std::string line = describe(o, "sink", f.camera, f.seq); !line.empty()) {
    log_warn("{}", line);
  }
  return ok_status();
}

void SinkStage::on_assigned(const std::vector<kafka::TopicPartition>& /*partitions*/) {
  if (params_.on_assigned) params_.on_assigned();
}

void SinkStage::on_revoking(const std::vector<kafka::TopicPartition>& partitions) {
  sequences_.forget(partitions);
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
  auto consumer = kafka::Consumer::create(p.kafka, p.group);
  if (!consumer) return consumer.error();
  if (Status s = (*consumer)->subscribe({p.topic}); !s) return s.error();
  log_info("sink: group '{}' on {} -> {}", p.group, p.topic,
           !p.write_lines ? "summary" : (out.get() == stdout ? "stdout" : p.output));

  metrics::build_info("sink", "");
  ConsumerLagGauge lag(metrics::global(), p.group);
  const kafka::Consumer& c = **consumer;
  const metrics::ScopedCollector collector(metrics::global(), [&lag, &c] { lag.update(c); });

  SinkStage stage(out.get(), p.output, p);
  auto run =
      run_subscriber(**consumer, stage, {.stage = "sink", .max_records = p.max_records}, stop);
  SinkStats stats;
  if (run) {
    stats.records = run->records;
    stats.bad_records = run->bad_records;
  }
  const SequenceCounts seq = stage.sequence_totals();
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
  if (!run) return run.error();
  return stats;
}

}  // namespace kv::pipeline
