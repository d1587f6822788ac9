// Clocks with their units in the name. Wall time is for timestamps that cross processes
// (capture time, Kafka record time); monotonic time is for durations inside one process.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace kv {

inline int64_t wall_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

inline int64_t mono_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

inline int64_t mono_now_ms() {
  return mono_now_us() / 1000;
}

// "2026-11-25 02:31:04.123 UTC" for a wall time in µs since the epoch.
inline std::string format_wall_time(int64_t us) {
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03d UTC", static_cast<int>((us / 1000) % 1000));
  return buf;
}

// Measures an interval on the monotonic clock.
class Stopwatch {
 public:
  Stopwatch() : start_us_(mono_now_us()) {}
  int64_t elapsed_us() const { return mono_now_us() - start_us_; }
  double elapsed_ms() const { return static_cast<double>(elapsed_us()) / 1000.0; }
  // Returns the elapsed time and starts a new interval.
  double lap_ms() {
    const int64_t now = mono_now_us();
    const double ms = static_cast<double>(now - start_us_) / 1000.0;
    start_us_ = now;
    return ms;
  }

 private:
  int64_t start_us_;
};

}  // namespace kv
