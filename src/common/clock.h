// Clocks with their units in the name. Wall time is for timestamps that cross processes
// (capture time, Kafka record time); monotonic time is for durations inside one process.
#pragma once

#include <chrono>
#include <cstdint>

namespace kv {

inline int64_t wall_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

inline int64_t mono_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
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
