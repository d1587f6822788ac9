#include "pipeline/sequence_monitor.h"

#include <algorithm>

#include <fmt/format.h>

namespace kv::pipeline {

SequenceMonitor::Observation SequenceMonitor::observe(const kafka::TopicPartition& tp,
                                                      const std::string& camera, int64_t session_us,
                                                      int64_t seq, int64_t accounted) {
  SequenceCounts& c = counts_[camera];
  ++c.frames;
  auto [it, created] = streams_.try_emplace({tp, camera});
  Stream& s = it->second;
  if (sessions_[camera].insert(session_us).second)
    c.sessions = static_cast<int64_t>(sessions_[camera].size());
  if (created || session_us > s.session_us) {
    const bool restart = !created;
    s = Stream{session_us, seq + 1, {}};
    return {restart ? Event::kNewSession : Event::kFirst, 0, seq};
  }
  if (session_us < s.session_us) {  // an older session's frame, after a newer one
    ++c.duplicates;
    return {Event::kDuplicate, 1, s.next};
  }
  if (seq == s.next) {
    ++s.next;
    return {Event::kInOrder, 0, seq};
  }
  if (seq > s.next && seq - s.next <= accounted) {
    const Observation o{Event::kSkipped, seq - s.next, s.next};
    c.skipped += o.frames;
    s.next = seq + 1;
    return o;
  }
  if (seq > s.next) {
    const int64_t gap = seq - s.next - std::max<int64_t>(0, accounted);
    c.skipped += std::max<int64_t>(0, accounted);
    c.missing += gap;
    // Which numbers are missing is not known when some were accounted for: the earliest are.
    for (int64_t m = std::max(s.next, seq - static_cast<int64_t>(kMaxRemembered)); m < s.next + gap;
         ++m)
      s.missing.insert(m);
    while (s.missing.size() > kMaxRemembered) s.missing.erase(s.missing.begin());
    const Observation o{Event::kGap, gap, s.next};
    s.next = seq + 1;
    return o;
  }
  if (s.missing.erase(seq) == 1) {  // arrived late, after the gap was counted
    --c.missing;
    return {Event::kLate, 0, s.next};
  }
  ++c.duplicates;
  return {Event::kDuplicate, 1, s.next};
}

void SequenceMonitor::forget(const std::vector<kafka::TopicPartition>& partitions) {
  std::erase_if(streams_, [&](const auto& entry) {
    const kafka::TopicPartition& tp = std::get<0>(entry.first);
    return std::find(partitions.begin(), partitions.end(), tp) != partitions.end();
  });
}

SequenceCounts SequenceMonitor::total() const {
  SequenceCounts t;
  for (const auto& [camera, c] : counts_) {
    t.frames += c.frames;
    t.missing += c.missing;
    t.duplicates += c.duplicates;
    t.skipped += c.skipped;
    t.sessions += c.sessions;
  }
  return t;
}

std::string describe(const SequenceMonitor::Observation& o, const std::string& where,
                     const std::string& camera, int64_t seq) {
  switch (o.event) {
    case SequenceMonitor::Event::kGap:
      return fmt::format("{}: camera '{}' skipped {} frame(s): expected seq {}, got {}", where,
                         camera, o.frames, o.expected, seq);
    case SequenceMonitor::Event::kDuplicate:
      return fmt::format("{}: camera '{}' frame seq {} arrived again (expected {})", where, camera,
                         seq, o.expected);
    case SequenceMonitor::Event::kNewSession:
      return fmt::format("{}: camera '{}' restarted (new ingest session at seq {})", where, camera,
                         seq);
    default:
      return {};
  }
}

}  // namespace kv::pipeline
