#include "pipeline/ordered_release.h"

#include <algorithm>

#include "common/assert.h"
#include "common/clock.h"

namespace kv::pipeline {

void OrderedRelease::enter(const kafka::TopicPartition& tp, int64_t offset, uint64_t epoch) {
  std::lock_guard lock(mu_);
  Slots& slots = parts_[tp];
  KV_ASSERT(slots.empty() || slots.rbegin()->first < offset,
            "records must be entered in offset order");
  slots.emplace(offset, Slot{epoch, {}, 0});
}

bool OrderedRelease::finish(const kafka::TopicPartition& tp, int64_t offset, uint64_t epoch,
                            Release release) {
  std::lock_guard lock(mu_);
  auto part = parts_.find(tp);
  if (part == parts_.end()) return false;
  auto slot = part->second.find(offset);
  if (slot == part->second.end() || slot->second.epoch != epoch || slot->second.release)
    return false;
  slot->second.release = std::move(release);
  slot->second.done_us = mono_now_us();
  ++waiting_;
  release_head(part->second);
  return true;
}

void OrderedRelease::release_head(Slots& slots) {
  while (!slots.empty() && slots.begin()->second.release) {
    auto node = slots.extract(slots.begin());
    --waiting_;
    node.mapped().release(mono_now_us() - node.mapped().done_us);
  }
}

void OrderedRelease::abandon(const kafka::TopicPartition& tp, int64_t offset) {
  std::lock_guard lock(mu_);
  auto part = parts_.find(tp);
  if (part == parts_.end()) return;
  Slots& slots = part->second;
  for (auto it = slots.lower_bound(offset); it != slots.end();) {
    if (it->second.release) --waiting_;
    it = slots.erase(it);
  }
  release_head(slots);
}

void OrderedRelease::forget(const std::vector<kafka::TopicPartition>& partitions) {
  std::lock_guard lock(mu_);
  for (const kafka::TopicPartition& tp : partitions) {
    auto part = parts_.find(tp);
    if (part == parts_.end()) continue;
    for (const auto& [offset, slot] : part->second) waiting_ -= slot.release ? 1 : 0;
    parts_.erase(part);
  }
}

void OrderedRelease::reset() {
  std::lock_guard lock(mu_);
  parts_.clear();
  waiting_ = 0;
}

size_t OrderedRelease::slots() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [tp, slots] : parts_) n += slots.size();
  return n;
}

size_t OrderedRelease::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace kv::pipeline
