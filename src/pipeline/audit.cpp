#include "pipeline/audit.h"

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

}  // namespace kv::pipeline
