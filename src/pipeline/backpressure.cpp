#include "pipeline/backpressure.h"

#include <thread>

#include "common/clock.h"
#include "common/log.h"

namespace kv::pipeline {
namespace {
constexpr int64_t kRecheckUs = 100'000;  // measure at least this often while publishing
constexpr int64_t kWaitPollMs = 20;
constexpr int64_t kWaitLogUs = 5'000'000;  // say so when a wait lasts this long
}  // namespace

Backpressure::Backpressure(std::unique_ptr<kafka::LagProbe> probe, std::string group,
                           int64_t max_lag)
    : probe_(std::move(probe)), group_(std::move(group)), max_lag_(max_lag) {}

int Backpressure::admit(int64_t published, int32_t partition,
                        const std::function<int64_t()>& unacked, std::stop_token stop,
                        const std::function<void()>& while_waiting) {
  const int64_t estimate = lag_at_check_ + (published - published_at_check_);
  if (estimate < max_lag_ && mono_now_us() - last_check_us_ < kRecheckUs) return 0;
  int waited = 0;
  const int64_t wait_start_us = mono_now_us();
  int64_t next_log_us = wait_start_us + kWaitLogUs;
  while (!stop.stop_requested()) {
    last_check_us_ = mono_now_us();
    auto broker_lag = probe_->lag(partition, 5000);
    if (!broker_lag) {
      // Not knowing the lag is no licence to outrun the broker: wait and measure again.
      // (A group coordinator that is still starting answers with errors for a few seconds.)
      if (last_check_us_ - last_warn_us_ > kWaitLogUs) {
        last_warn_us_ = last_check_us_;
        log_warn("ingest: cannot measure the lag of group '{}' yet ({}); waiting", group_,
                 broker_lag.error().message);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    // Records still on their way to the broker are lag as soon as they land.
    lag_at_check_ = *broker_lag + unacked();
    published_at_check_ = published;
    if (lag_at_check_ < max_lag_) break;
    waited = 1;
    if (mono_now_us() > next_log_us) {
      next_log_us += kWaitLogUs;
      log_info(
          "ingest: waiting {:.0f} s for group '{}' to catch up ({} frames behind, limit {}); is "
          "`kvision detect` running? (--max-lag 0 never waits)",
          static_cast<double>(mono_now_us() - wait_start_us) / 1e6, group_, lag_at_check_,
          max_lag_);
    }
    if (while_waiting) while_waiting();
    std::this_thread::sleep_for(std::chrono::milliseconds(kWaitPollMs));
  }
  return waited;
}

}  // namespace kv::pipeline
