#include "pipeline/dead_letter.h"

#include "common/clock.h"
#include "wire/topics.h"

namespace kv::pipeline {
namespace {

// The producer's message.max.bytes less room for the key, headers and batch framing.
size_t value_limit(const kafka::Producer& producer) {
  constexpr size_t kHeadroom = 64 * 1024;
  const size_t max = producer.max_message_bytes();
  return max > 2 * kHeadroom ? max - kHeadroom : max / 2;
}

}  // namespace

Status dead_letter(kafka::Producer& producer, const kafka::Message& msg, const std::string& stage,
                   const std::string& error, kafka::Producer::DeliveryFn on_delivery) {
  const std::string topic(msg.topic());
  kafka::OutRecord rec;
  rec.topic = topic + std::string(wire::kDeadLetterSuffix);
  rec.key = std::string(msg.key());
  rec.value = msg.value();
  rec.headers = msg.headers();
  const size_t limit = value_limit(producer);
  if (rec.value.size() > limit) {
    rec.headers.emplace_back(kHdrDlqTruncated, std::to_string(rec.value.size()));
    rec.value = rec.value.first(limit);
  }
  rec.headers.emplace_back(kHdrDlqError, error);
  rec.headers.emplace_back(kHdrDlqStage, stage);
  rec.headers.emplace_back(kHdrDlqTopic, topic);
  rec.headers.emplace_back(kHdrDlqPartition, std::to_string(msg.partition()));
  rec.headers.emplace_back(kHdrDlqOffset, std::to_string(msg.offset()));
  rec.headers.emplace_back(kHdrDlqTime, std::to_string(wall_now_us()));
  return producer.produce(rec, std::move(on_delivery));
}

Status skip_record(kafka::Producer& producer, const kafka::Message& msg, const std::string& reason,
                   int64_t age_ms, kafka::Producer::DeliveryFn on_delivery) {
  const std::string topic(msg.topic());
  kafka::OutRecord rec;
  rec.topic = topic + std::string(wire::kSkippedSuffix);
  rec.key = std::string(msg.key());
  rec.headers = msg.headers();
  rec.headers.emplace_back(kHdrSkipReason, reason);
  rec.headers.emplace_back(kHdrSkipAge, std::to_string(age_ms));
  rec.headers.emplace_back(kHdrSkipTopic, topic);
  rec.headers.emplace_back(kHdrSkipPartition, std::to_string(msg.partition()));
  rec.headers.emplace_back(kHdrSkipOffset, std::to_string(msg.offset()));
  return producer.produce(rec, std::move(on_delivery));
}

}  // namespace kv::pipeline
