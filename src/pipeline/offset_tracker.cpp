#include "pipeline/offset_tracker.h"

#include <chrono>

#include "common/assert.h"

namespace kv::pipeline {

bool OffsetTracker::begin(const kafka::TopicPartition& tp, int64_t offset) {
  std::lock_guard lock(mu_);
  auto [it, created] = parts_.try_emplace(tp);
  PartitionState& s = it->second;
  if (created) s.committable = offset;  // where consumption starts: nothing to commit yet
  if (!s.pending.insert(offset).second) return false;
  s.max_begun = std::max(s.max_begun, offset);
  ++in_flight_;
  return true;
}

std::optional<int64_t> OffsetTracker::complete(const kafka::TopicPartition& tp, int64_t offset) {
  std::lock_guard lock(mu_);
  PartitionState& s = parts_[tp];
  const size_t erased = s.pending.erase(offset);
  KV_ASSERT(erased == 1, "completed an offset that was not in flight");
  --in_flight_;
  if (in_flight_ == 0) idle_cv_.notify_all();
  const int64_t next = s.pending.empty() ? s.max_begun + 1 : *s.pending.begin();
  if (next > s.committable) {
    s.committable = next;
    return next;
  }
  return std::nullopt;
}

std::map<kafka::TopicPartition, int64_t> OffsetTracker::committable() const {
  std::lock_guard lock(mu_);
  std::map<kafka::TopicPartition, int64_t> out;
  for (const auto& [tp, s] : parts_) out[tp] = s.committable;
  return out;
}

void OffsetTracker::forget(const std::vector<kafka::TopicPartition>& partitions) {
  std::lock_guard lock(mu_);
  for (const kafka::TopicPartition& tp : partitions) {
    auto it = parts_.find(tp);
    if (it == parts_.end()) continue;
    in_flight_ -= it->second.pending.size();
    parts_.erase(it);
  }
  if (in_flight_ == 0) idle_cv_.notify_all();
}

void OffsetTracker::abandon(const kafka::TopicPartition& tp, int64_t offset) {
  std::lock_guard lock(mu_);
  auto it = parts_.find(tp);
  if (it == parts_.end()) return;
  PartitionState& s = it->second;
  for (auto p = s.pending.lower_bound(offset); p != s.pending.end();) {
    p = s.pending.erase(p);
    --in_flight_;
  }
  s.max_begun = std::min(s.max_begun, offset - 1);
  if (in_flight_ == 0) idle_cv_.notify_all();
}

void OffsetTracker::reset() {
  std::lock_guard lock(mu_);
  parts_.clear();
  in_flight_ = 0;
  idle_cv_.notify_all();
}

size_t OffsetTracker::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

bool OffsetTracker::wait_idle(int timeout_ms) const {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return in_flight_ == 0; });
}

}  // namespace kv::pipeline
