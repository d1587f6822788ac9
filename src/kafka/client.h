// Creating librdkafka clients: for src/kafka's own .cpp files, the only place where
// librdkafka's header is included.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/handles.h"
#include "kafka/record.h"

namespace kv::kafka {

// Builds a librdkafka configuration: bootstrap servers, then `defaults`, then the user's
// overrides. An unknown property or a bad value is a kInvalidArgument error naming it.
// The caller owns the returned conf (pass it to rd_kafka_new or destroy it).
Result<rd_kafka_conf_t*> make_conf(const KafkaConfig& config, const Properties& defaults);

// Creates a client handle that takes ownership of `conf`, on success and on failure alike.
// `what` names the client in the error message.
Result<KafkaHandle> new_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf, const char* what);

// The partition ids of `topic` from the cluster's metadata; empty when the topic does not
// exist. Errors: the metadata request failed.
Result<std::vector<int32_t>> topic_partitions(rd_kafka_t* rk, const std::string& topic,
                                              int timeout_ms);

// The partitions of a librdkafka list.
std::vector<TopicPartition> to_partitions(const rd_kafka_topic_partition_list_t* list);

// One poll of a consumer handle: a record, or an empty Message for nothing, a transient error
// (logged) or the end of a partition (added to `ends` when given). Fatal errors are returned.
Result<Message> poll_consumer(rd_kafka_t* rk, int timeout_ms, std::set<TopicPartition>* ends);

}  // namespace kv::kafka
