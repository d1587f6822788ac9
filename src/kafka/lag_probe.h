#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/handles.h"

namespace kv::kafka {

// Measures how far a consumer group is behind on a topic: high watermark minus the group's
// committed offset (or minus the log start where it has committed nothing yet).
// It never joins the group. Thread-safety: one thread at a time.
class LagProbe {
 public:
  static Result<std::unique_ptr<LagProbe>> create(const KafkaConfig& config,
                                                  const std::string& group,
                                                  const std::string& topic);

  // Lag in records on one partition; partition < 0 gives the largest lag over all partitions.
  Result<int64_t> lag(int32_t partition, int timeout_ms);

 private:
  LagProbe() = default;
  Result<int32_t> partition_count(int timeout_ms);

  KafkaHandle rk_;
  std::string topic_;
  int32_t partitions_ = 0;
};

}  // namespace kv::kafka
