#include "alert/reorder.h"

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

std::vector<Held> Reorderer::push(Held held) {
  std::vector<Held> out;
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
  c.waiting.emplace(seq, std::move(held));
  release(c, out, false);
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
