#include "kafka/handles.h"
#include "kafka/client.h"

#include <librdkafka/rdkafka.h>

namespace kv::kafka {

void KafkaHandleDeleter::operator()(rd_kafka_s* rk) const {
  rd_kafka_destroy(rk);
}
void MessageDeleter::operator()(rd_kafka_message_s* m) const {
  rd_kafka_message_destroy(m);
}
void PartitionListDeleter::operator()(rd_kafka_topic_partition_list_s* l) const {
  rd_kafka_topic_partition_list_destroy(l);
}
void MetadataDeleter::operator()(const struct rd_kafka_metadata* m) const {
  rd_kafka_metadata_destroy(m);
}

}  // namespace kv::kafka
