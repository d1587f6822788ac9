#include "vlog/clip_scheduler.h"

#include <algorithm>

#include "common/clock.h"
#include "common/log.h"

namespace kv::vlog {

ClipScheduler::ClipScheduler(int64_t settle_ms)
    : settle_ms_(settle_ms), thread_([this](std::stop_token stop) { loop(stop); }) {}

ClipScheduler::~ClipScheduler() {
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void ClipScheduler::schedule(ClipParams params) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(params));
  }
  cv_.notify_all();
}

void ClipScheduler::loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    const bool stopping = stop.stop_requested();
    if (stopping && pending_.empty()) return;
    const int64_t now_ms = wall_now_us() / 1000;
    auto due = std::min_element(
        pending_.begin(), pending_.end(),
        [](const ClipParams& a, const ClipParams& b) { return a.range.to_ms < b.range.to_ms; });
    if (due != pending_.end() && (stopping || due->range.to_ms + settle_ms_ <= now_ms)) {
      ClipParams job = std::move(*due);
      pending_.erase(due);
      lock.unlock();
      if (stopping) log_info("clip: writing {} now, before stopping", job.output.string());
      write(job);
      lock.lock();
      continue;
    }
    const int64_t wait_ms =
        due == pending_.end()
            ? 1000
            : std::clamp<int64_t>(due->range.to_ms + settle_ms_ - now_ms, 1, 1000);
    const size_t seen = pending_.size();
    cv_.wait_for(lock, stop, std::chrono::milliseconds(wait_ms),
                 [&] { return pending_.size() != seen; });
  }
}

void ClipScheduler::write(const ClipParams& params) {
  auto stats = make_clip(params);
  if (stats) {
    log_info("clip: wrote {} ({} frames, {:.1f} s)", params.output.string(), stats->frames_read,
             stats->duration_s);
  } else {
    log_error("clip: {}: {}", params.output.string(), stats.error().message);
  }
}

}  // namespace kv::vlog
