// The tracker-state topic as the detect stage uses it (docs/tracking.md): created compacted by
// camera, read back for the input partitions a member is given before any of their frames,
// and where each camera's state record goes after each of its frames.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "kafka/record.h"
#include "kafka/topics.h"
#include "pipeline/camera_trackers.h"

namespace kv::pipeline {

class TrackStateLog {
 public:
  // window_ms: state written longer ago than this is not restored. `topics`: the settings of
  // the topic if it must be created.
  TrackStateLog(kafka::KafkaConfig kafka, std::string topic, kafka::TopicSettings topics,
                int64_t window_ms);

  // Creates the topic if it is absent (compact,delete; 1 h retention) and learns its
  // partition count through `producer`, which asks until its own broker knows the topic.
  Status prepare(kafka::Producer& producer);

  // Puts into `trackers` the newest state, within the window, of each camera whose frames come
  // from these input partitions. Returns how many cameras it restored. A topic that cannot be
  // read is logged, and those cameras start new track IDs.
  int64_t restore(const std::vector<kafka::TopicPartition>& inputs, CameraTrackers& trackers) const;

  // The state record of a camera whose frames come from input partition `input_partition`:
  // keyed by camera, on partition input_partition mod the topic's partitions. `value` must
  // outlive the record.
  kafka::OutRecord record(const std::string& camera, int32_t input_partition,
                          std::string_view value) const;

 private:
  kafka::KafkaConfig kafka_;
  std::string topic_;
  kafka::TopicSettings topics_;
  int64_t window_ms_;
  int32_t partitions_ = 1;
};

}  // namespace kv::pipeline
