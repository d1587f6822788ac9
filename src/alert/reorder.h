// Puts each camera's detection records back in frame order. Detector workers run in
// parallel, so a camera's results can reach the topic a frame or two out of order; rules
// about consecutive frames and tracks need them in order. Records wait in a short window
// until the next expected frame arrives, the window is full, or they have waited `max_wait_us`
// (the missing frame is then taken as skipped).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "wire/detection_record.h"

namespace kv::alert {

struct Held {
  wire::DetectionRecord record;
  std::string topic;  // where it was read, so its offset can be committed once processed
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t arrived_us = 0;  // monotonic; set by push()
};

// Thread-safety: one thread at a time.
class Reorderer {
 public:
  explicit Reorderer(size_t window = 16, int64_t max_wait_us = 500'000)
      : window_(window), max_wait_us_(max_wait_us) {}

  // Takes a record (at monotonic time now_us); returns those now ready, in order. A record
  // whose frame is already waiting (a redelivery) is returned at once.
  std::vector<Held> push(Held held, int64_t now_us);
  // Records that have waited long enough, with what follows them, in order.
  std::vector<Held> expire(int64_t now_us);
  // Everything still waiting, in order (stopping).
  std::vector<Held> drain();
  size_t waiting() const;

 private:
  struct Camera {
    int64_t session_us = 0;
    int64_t next_seq = -1;  // -1: not known yet
    std::map<int64_t, Held> waiting;
  };
  void release(Camera& c, std::vector<Held>& out, bool all);

  size_t window_;
  int64_t max_wait_us_;
  std::map<std::string, Camera> cameras_;
};

}  // namespace kv::alert
