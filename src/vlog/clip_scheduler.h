// Clips written later: each when its range has passed (kvision alert's clips around alerts).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
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
  struct Outcome {
    std::filesystem::path output;
    Result<ClipStats> stats;
  };
  // `settle_ms`: how long after a clip's end to wait for its last frames to reach the topic.
  explicit ClipScheduler(int64_t settle_ms = 2000,
                         std::function<void(const Outcome&)> on_written = {});
  ~ClipScheduler();
  ClipScheduler(const ClipScheduler&) = delete;
  ClipScheduler& operator=(const ClipScheduler&) = delete;

  // Writes the clip once the wall clock passes its range's end plus settle_ms.
  void schedule(ClipParams params);
  int64_t written() const;
  int64_t failed() const;

 private:
  void loop(std::stop_token stop);
  void write(const ClipParams& params);

  const int64_t settle_ms_;
  std::function<void(const Outcome&)> on_written_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<ClipParams> pending_;  // guarded by mu_
  int64_t written_ = 0;              // guarded by mu_
  int64_t failed_ = 0;               // guarded by mu_
  std::jthread thread_;              // last: starts after the rest is built
};

}  // namespace kv::vlog
