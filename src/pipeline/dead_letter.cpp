#include "pipeline/dead_letter.h"

#include "common/clock.h"
#include "wire/topics.h"

namespace kv::pipeline {

Status dead_letter(kafka::Producer& producer, const rd_kafka_message_t* msg,
                   const std::string& stage, const std::string& error,
                   kafka::Producer::DeliveryFn on_delivery) {
  const std::string topic = kafka::message_topic(msg);
  kafka::OutRecord rec;
  rec.topic = topic + std::string(wire::kDeadLetterSuffix);
  rec.key = std::string(kafka::message_key(msg));
  rec.value = kafka::message_value(msg);
  rec.headers = kafka::message_headers(msg);
  rec.headers.emplace_back(kHdrDlqError, error);
  rec.headers.emplace_back(kHdrDlqStage, stage);
  rec.headers.emplace_back(kHdrDlqTopic, topic);
  rec.headers.emplace_back(kHdrDlqPartition, std::to_string(msg->partition));
  rec.headers.emplace_back(kHdrDlqOffset, std::to_string(msg->offset));
  rec.headers.emplace_back(kHdrDlqTime, std::to_string(wall_now_us()));
  return producer.produce(rec, std::move(on_delivery));
}

}  // namespace kv::pipeline
