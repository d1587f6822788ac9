// Clips written later: each when its range has passed (kvision alert's clips around alerts).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "vlog/clip.h"

namespace kv::vlog {

// Lifecycle: constructed (starts its thread) -> schedule()... -> destroyed, which writes the
// clips still waiting at once, with the frames there are. Thread-safety: schedule() from any
// thread; clips are written one at a time on the scheduler's thread.
class ClipScheduler {
 public:
  // `settle_ms`: how long after a clip's end to wait for its last frames to reach the topic.
  explicit ClipScheduler(int64_t settle_ms = 2000);
  ~ClipScheduler();
  ClipScheduler(const ClipScheduler&) = delete;
  ClipScheduler& operator=(const ClipScheduler&) = delete;

  // Writes the clip once the wall clock passes its range's end plus settle_ms; the outcome is
  // logged.
  void schedule(ClipParams params);

 private:
  void loop(std::stop_token stop);
  void write(const ClipParams& params);

  const int64_t settle_ms_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<ClipParams> pending_;  // guarded by mu_
  std::jthread thread_;              // last: starts after the rest is built
};

}  // namespace kv::vlog
