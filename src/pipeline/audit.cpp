#include "pipeline/audit.h"

#include <exception>
#include <functional>

#include "kafka/partition_reader.h"
#include "pipeline/dead_letter.h"
#include "wire/detection_record.h"
#include "wire/frame_headers.h"

namespace kv::pipeline {

void AuditTally::add_input(const std::string& topic, int32_t partition, int64_t offset,
                           const std::optional<FrameKey>& key) {
  inputs_[{topic, partition, offset}] = key;
}

void AuditTally::add_output(const FrameKey& key) {
  ++outputs_[key];
}

void AuditTally::add_dead_letter(const std::string& topic, int32_t partition, int64_t offset) {
  dead_letters_.insert({topic, partition, offset});
}

void AuditTally::add_skipped(const std::string& topic, int32_t partition, int64_t offset) {
  skipped_.insert({topic, partition, offset});
}

std::vector<CameraAudit> AuditTally::report() const {
  std::map<std::string, CameraAudit> cams;
  std::set<FrameKey> seen;  // an input frame stored twice counts once
  for (const auto& [pos, key] : inputs_) {
    const std::string camera = key ? key->camera : "?";
    CameraAudit& c = cams[camera];
    c.camera = camera;
    const bool dead = dead_letters_.count(pos) != 0;
    if (key && !seen.insert(*key).second) continue;
    ++c.in;
    if (dead) {
      ++c.dead_lettered;
      continue;
    }
    const auto it = key ? outputs_.find(*key) : outputs_.end();
    if (it != outputs_.end()) continue;
    if (skipped_.count(pos) != 0) {
      ++c.skipped;
    } else {
      ++c.missing;
    }
  }
  for (const auto& [key, n] : outputs_) {
    if (seen.count(key) == 0) continue;
    CameraAudit& c = cams[key.camera];
    c.out += n;
    c.duplicates += n - 1;
  }
  std::vector<CameraAudit> out;
  for (auto& [_, c] : cams) out.push_back(c);
  return out;
}

int64_t AuditTally::unmatched_outputs() const {
  std::set<FrameKey> inputs;
  for (const auto& [_, key] : inputs_) {
    if (key) inputs.insert(*key);
  }
  int64_t n = 0;
  for (const auto& [key, count] : outputs_) n += inputs.count(key) == 0 ? count : 0;
  return n;
}

namespace {

FrameKey key_of(const wire::FrameMeta& m) {
  return FrameKey{m.camera, m.session_us, m.seq};
}

}  // namespace

Result<AuditResult> audit_topics(const kafka::KafkaConfig& config, const AuditTopics& topics,
                                 bool committed, int idle_timeout_s) {
  AuditResult r;
  auto read = [&](const std::string& topic, bool may_be_missing,
                  const std::function<void(const kafka::Message&)>& fn) {
    return kafka::read_to_end(config, topic, {committed, may_be_missing, idle_timeout_s}, fn);
  };
  Status s = read(topics.input, false, [&](const kafka::Message& m) {
    auto meta = wire::decode_frame_headers(m.headers());
    r.tally.add_input(topics.input, m.partition(), m.offset(),
                      meta ? std::optional(key_of(*meta)) : std::nullopt);
  });
  if (!s) return s.error();
  s = read(topics.output, false, [&](const kafka::Message& m) {
    // processed_images carries the frame headers; detections a JSON record.
    auto meta = wire::decode_frame_headers(m.headers());
    if (meta) return r.tally.add_output(key_of(*meta));
    auto rec = wire::decode_detection_record(m.value_text());
    if (rec) return r.tally.add_output(key_of(rec->frame));
    ++r.unreadable_outputs;
  });
  if (!s) return s.error();
  // Dead letters and skip records name the input record they stand for.
  auto read_markers = [&](const std::string& topic, const char* topic_hdr, const char* part_hdr,
                          const char* offset_hdr, auto add) {
    return read(topic, true, [&](const kafka::Message& m) {
      const wire::Headers h = m.headers();
      const std::string* from = wire::find_header(h, topic_hdr);
      const std::string* partition = wire::find_header(h, part_hdr);
      const std::string* offset = wire::find_header(h, offset_hdr);
      if (!from || !partition || !offset || *from != topics.input) return;
      try {
        add(*from, std::stoi(*partition), std::stoll(*offset));
      } catch (const std::exception&) {
      }
    });
  };
  s = read_markers(
      topics.dead_letters, kHdrDlqTopic, kHdrDlqPartition, kHdrDlqOffset,
      [&](const std::string& t, int32_t p, int64_t off) { r.tally.add_dead_letter(t, p, off); });
  if (!s) return s.error();
  s = read_markers(
      topics.skipped, kHdrSkipTopic, kHdrSkipPartition, kHdrSkipOffset,
      [&](const std::string& t, int32_t p, int64_t off) { r.tally.add_skipped(t, p, off); });
  if (!s) return s.error();
  return r;
}

}  // namespace kv::pipeline
