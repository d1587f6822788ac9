// unique_ptr ownership for librdkafka's C handles. The handles are only named here, not
// defined: librdkafka's header stays inside src/kafka's .cpp files.
#pragma once

#include <memory>

struct rd_kafka_s;
struct rd_kafka_message_s;
struct rd_kafka_topic_partition_list_s;
struct rd_kafka_metadata;

namespace kv::kafka {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_s* rk) const;
};
struct MessageDeleter {
  void operator()(rd_kafka_message_s* m) const;
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_s* l) const;
};
struct MetadataDeleter {
  void operator()(const struct rd_kafka_metadata* m) const;
};

using KafkaHandle = std::unique_ptr<rd_kafka_s, KafkaHandleDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_s, MessageDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_s, PartitionListDeleter>;
using MetadataPtr = std::unique_ptr<const struct rd_kafka_metadata, MetadataDeleter>;

}  // namespace kv::kafka
