#pragma once

#include <functional>
#include <string>

#include "kafka/producer.h"

namespace kv::pipeline {

// Headers added to a dead-lettered record, beside its original headers.
inline constexpr const char* kHdrDlqError = "kv.dlq.error";
inline constexpr const char* kHdrDlqStage = "kv.dlq.stage";
inline constexpr const char* kHdrDlqTopic = "kv.dlq.topic";
inline constexpr const char* kHdrDlqPartition = "kv.dlq.partition";
inline constexpr const char* kHdrDlqOffset = "kv.dlq.offset";
inline constexpr const char* kHdrDlqTime = "kv.dlq.time_us";
// Only on a value too large for the producer's message.max.bytes: its original size. The
// value is then cut to what fits.
inline constexpr const char* kHdrDlqTruncated = "kv.dlq.truncated_from";

// Sends a consumed record that could not be processed, with its original key, value and
// headers, to "<topic>.dlq", with headers naming the error, the stage and the source. A value
// larger than the producer may send is cut to fit (kHdrDlqTruncated gives its size), so an
// oversized record cannot stop the pipeline.
Status dead_letter(kafka::Producer& producer, const kafka::Message& msg, const std::string& stage,
                   const std::string& error, kafka::Producer::DeliveryFn on_delivery);

// Headers of a skip record on "<topic>.skipped", beside the frame's own headers.
inline constexpr const char* kHdrSkipReason = "kv.skip.reason";  // "stale"
inline constexpr const char* kHdrSkipAge = "kv.skip.age_ms";     // the frame's age when skipped
inline constexpr const char* kHdrSkipTopic = "kv.skip.topic";
inline constexpr const char* kHdrSkipPartition = "kv.skip.partition";
inline constexpr const char* kHdrSkipOffset = "kv.skip.offset";

// Records that a consumed frame was skipped, not processed: its key and headers, without the
// image (which stays in its topic, for replay), on "<topic>.skipped", with headers naming the
// reason, its age and where it lies.
Status skip_record(kafka::Producer& producer, const kafka::Message& msg, const std::string& reason,
                   int64_t age_ms, kafka::Producer::DeliveryFn on_delivery);

}  // namespace kv::pipeline
