// Puts each camera's detection records back in frame order. Detector workers run in
// parallel, so a camera's results can reach the topic a frame or two out of order; rules
// about consecutive frames and tracks need them in order. Records wait in a short window
// until the next expected frame arrives, the window is full (the missing frame is taken as
// skipped), or the input goes idle.
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
};

// Thread-safety: one thread at a time.
class Reorderer {
 public:
  explicit Reorderer(size_t window = 16) : window_(window) {}

  // Takes a record; returns those now ready, in order.
  std::vector<Held> push(Held held);
  // Everything still waiting, in order (the input is idle, or stopping).
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
  std::map<std::string, Camera> cameras_;
};

}  // namespace kv::alert
