#include "vlog/clip_scheduler.h"

#include <algorithm>

#include "common/clock.h"
#include "common/log.h"

namespace kv::vlog {

ClipScheduler::ClipScheduler(int64_t settle_ms, std::function<void(const Outcome&)> on_written)
    : settle_ms_(settle_ms),
      on_written_(std::move(on_written)),
      thread_([this](std::stop_token stop) { loop(stop); }) {}

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

int64_t ClipScheduler::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

int64_t ClipScheduler::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
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
  Outcome out{params.output, make_clip(params)};
  {
    std::lock_guard lock(mu_);
    ++(out.stats ? written_ : failed_);
  }
  if (out.stats) {
    log_info("clip: wrote {} ({} frames, {:.1f} s)", params.output.string(), out.stats->frames_read,
             out.stats->duration_s);
  } else {
    log_error("clip: {}: {}", params.output.string(), out.stats.error().message);
  }
  if (on_written_) on_written_(out);
}

}  // namespace kv::vlog
