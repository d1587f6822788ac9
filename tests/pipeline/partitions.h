// Partitions the pipeline tests use.
#pragma once

#include "kafka/consumer.h"

namespace kv::pipeline {

inline const kafka::TopicPartition kP0{"raw_video_frames", 0};
inline const kafka::TopicPartition kP1{"raw_video_frames", 1};

}  // namespace kv::pipeline
