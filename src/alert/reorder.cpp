#include "alert/reorder.h"

#include <algorithm>
#include <cstdint>

namespace kv::alert {

void Reorderer::release(Camera& c, std::vector<Held>& out, bool all) {
  while (!c.waiting.empty()) {
    auto first = c.waiting.begin();
    if (!all && first->first != c.next_seq && c.waiting.size() <= window_) break;
    c.next_seq = first->first + 1;
    out.push_back(std::move(first->second));
    c.waiting.erase(first);
  }
}

std::vector<Held> Reorderer::push(Held held, int64_t now_us) {
  std::vector<Held> out;
  held.arrived_us = now_us;
  const wire::FrameMeta& f = held.record.frame;
  Camera& c = cameras_[f.camera];
  if (c.session_us != f.session_us) {  // the camera restarted: the old run is over
    release(c, out, true);
    c.session_us = f.session_us;
    c.next_seq = f.seq == 0 ? 0 : -1;
  } else if (c.next_seq >= 0 && f.seq < c.next_seq) {
    out.push_back(std::move(held));  // too late (or seen before): the engine decides
    return out;
  }
  const int64_t seq = f.seq;
  if (c.waiting.count(seq) != 0) {
    out.push_back(std::move(held));  // the same frame again: the engine skips it as stale
    return out;
  }
  c.waiting.emplace(seq, std::move(held));
  release(c, out, false);
  return out;
}

std::vector<Held> Reorderer::expire(int64_t now_us) {
  std::vector<Held> out;
  for (auto& [name, c] : cameras_) {
    // A record has waited long enough: what the first waits for is taken as skipped.
    auto earliest = [&c] {
      int64_t t = INT64_MAX;
      for (const auto& [seq, h] : c.waiting) t = std::min(t, h.arrived_us);
      return t;
    };
    while (!c.waiting.empty() && now_us - earliest() >= max_wait_us_) {
      c.next_seq = c.waiting.begin()->first;
      release(c, out, false);
    }
  }
  return out;
}

std::vector<Held> Reorderer::drain() {
  std::vector<Held> out;
  for (auto& [name, c] : cameras_) release(c, out, true);
  return out;
}

size_t Reorderer::waiting() const {
  size_t n = 0;
  for (const auto& [name, c] : cameras_) n += c.waiting.size();
  return n;
}

}  // namespace kv::alert
