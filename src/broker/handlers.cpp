#include "broker/handlers.h"

#include <map>
#include <tuple>

#include <fmt/format.h>

#include "broker/partition_log.h"
#include "broker/record_batch.h"
#include "common/clock.h"
#include "common/log.h"

namespace kv::broker {
namespace {

using namespace handler_detail;  // NOLINT: the shared response helpers

enum Api : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kInitProducerId = 22,
  kAddPartitionsToTxn = 24,
  kAddOffsetsToTxn = 25,
  kEndTxn = 26,
  kTxnOffsetCommit = 28,
  kDescribeConfigs = 32,
  kAlterConfigs = 33,
  kIncrementalAlterConfigs = 44,
};

int16_t code(KafkaError e) {
  return static_cast<int16_t>(e);
}

// --- ApiVersions -------------------------------------------------------------------------
Response api_versions(const RequestHeader& h) {
  Writer w = start(h);
  // KIP-511: a version we do not know is answered in the v0 format with UNSUPPORTED_VERSION and
  // our list, so the client can retry with a version we support.
  const bool unsupported = h.api_version > 2;
  w.i16(unsupported ? code(KafkaError::kUnsupportedVersion) : 0);
  w.array_length(supported_apis().size());
  for (const ApiRange& a : supported_apis()) {
    w.i16(a.key);
    w.i16(a.min_version);
    w.i16(a.max_version);
  }
  if (!unsupported && h.api_version >= 1) w.i32(0);  // throttle_time_ms
  return finish(w);
}

// --- Metadata ----------------------------------------------------------------------------
Response metadata(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  std::vector<std::string> requested;
  bool all = false;
  const int32_t n = in.i32();
  if (n < 0 || (v == 0 && n == 0)) {
    all = true;
  } else {
    for (int32_t i = 0; i < n && !in.failed(); ++i) requested.push_back(in.string());
  }
  bool auto_create = true;
  if (v >= 4) auto_create = in.i8() != 0;
  if (v >= 8) {
    in.i8();
    in.i8();
  }
  if (in.failed()) return bad_request(h);
  if (all) requested = ctx.store.topic_names();

  Writer w = start(h);
  if (v >= 3) w.i32(0);  // throttle
  w.array_length(1);
  w.i32(ctx.params.node_id);
  w.string(ctx.params.advertised_host);
  w.i32(ctx.port);
  if (v >= 1) w.nullable_string(std::nullopt);  // rack
  if (v >= 2) w.nullable_string(std::string("kvision"));
  if (v >= 1) w.i32(ctx.params.node_id);  // controller
  w.array_length(requested.size());
  for (const std::string& topic : requested) {
    int partitions = ctx.store.partition_count(topic);
    KafkaError err = KafkaError::kNone;
    if (partitions == 0) {
      if (!valid_topic_name(topic)) {
        err = KafkaError::kInvalidTopic;
      } else if (auto_create) {
        Status s = ctx.store.create_topic(topic, ctx.params.default_partitions);
        partitions = ctx.store.partition_count(topic);  // a racing create is fine too
        if (!s && partitions == 0) err = KafkaError::kUnknownTopicOrPartition;
      } else {
        err = KafkaError::kUnknownTopicOrPartition;
      }
    }
    w.i16(code(err));
    w.string(topic);
    if (v >= 1) w.i8(0);  // is_internal
    w.array_length(static_cast<size_t>(partitions));
    for (int p = 0; p < partitions; ++p) {
      w.i16(0);
      w.i32(p);
      w.i32(ctx.params.node_id);  // leader
      if (v >= 7) w.i32(0);       // leader epoch
      w.array_length(1);
      w.i32(ctx.params.node_id);  // replicas
      w.array_length(1);
      w.i32(ctx.params.node_id);  // isr
      if (v >= 5) w.array_length(0);
    }
    if (v >= 8) w.i32(0);
  }
  if (v >= 8) w.i32(0);
  return finish(w);
}

// --- Produce -----------------------------------------------------------------------------
struct PartitionResult {
  int32_t partition;
  KafkaError error;
  int64_t base_offset;
  int64_t log_start;
};

PartitionResult append_records(HandlerContext& ctx, const std::optional<std::string>& txn_id,
                               const std::string& topic, int32_t partition,
                               std::span<const uint8_t> records) {
  std::shared_ptr<PartitionLog> log = ctx.store.partition(topic, partition);
  if (log == nullptr) return {partition, KafkaError::kUnknownTopicOrPartition, -1, -1};
  // A request may carry several batches back to back; each is validated and stored whole.
  std::vector<uint8_t> copy(records.begin(), records.end());
  std::span<uint8_t> rest(copy);
  int64_t first_base = -1;
  while (!rest.empty()) {
    auto hdr = parse_batch_header(rest);
    if (!hdr) return {partition, KafkaError::kCorruptMessage, -1, log->log_start_offset()};
    if (hdr->is_control()) {  // markers are written by the coordinator only
      return {partition, KafkaError::kInvalidRequest, -1, log->log_start_offset()};
    }
    if (hdr->is_transactional()) {
      const int16_t e = txn_id ? ctx.txns.check_produce(*txn_id, hdr->producer_id,
                                                        hdr->producer_epoch, topic, partition)
                               : code(KafkaError::kInvalidTxnState);
      if (e != 0) return {partition, static_cast<KafkaError>(e), -1, log->log_start_offset()};
    }
    auto base = log->append(rest.first(hdr->total_bytes()));
    if (!base) {
      log_warn("broker: produce to {}[{}] rejected: {}", topic, partition, base.error().message);
      const std::string& m = base.error().message;
      const KafkaError e =
          m.rfind("OUT_OF_ORDER_SEQUENCE_NUMBER", 0) == 0 ? KafkaError::kOutOfOrderSequence
          : m.rfind("INVALID_PRODUCER_EPOCH", 0) == 0     ? KafkaError::kInvalidProducerEpoch
                                                          : KafkaError::kCorruptMessage;
      return {partition, e, -1, log->log_start_offset()};
    }
    if (first_base < 0) first_base = *base;
    rest = rest.subspan(hdr->total_bytes());
  }
  if (first_base < 0) return {partition, KafkaError::kCorruptMessage, -1, log->log_start_offset()};
  return {partition, KafkaError::kNone, first_base, log->log_start_offset()};
}

Response produce(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  const std::optional<std::string> txn_id = in.nullable_string();  // v3+
  const int16_t acks = in.i16();
  in.i32();  // timeout
  std::vector<std::pair<std::string, std::vector<PartitionResult>>> results;
  const int32_t topics = in.array_length();
  bool appended = false;
  for (int32_t t = 0; t < topics && !in.failed(); ++t) {
    std::string name = in.string();
    std::vector<PartitionResult> parts;
    const int32_t np = in.array_length();
    for (int32_t p = 0; p < np && !in.failed(); ++p) {
      const int32_t index = in.i32();
      const auto records = in.bytes();
      if (in.failed()) break;
      parts.push_back(append_records(ctx, txn_id, name, index, records));
      appended = appended || parts.back().error == KafkaError::kNone;
    }
    results.emplace_back(std::move(name), std::move(parts));
  }
  if (in.failed()) return bad_request(h);
  if (appended) ctx.store.notify_append();
  if (acks == 0) return std::optional<std::vector<uint8_t>>();
  Writer w = start(h);
  w.array_length(results.size());
  for (const auto& [name, parts] : results) {
    w.string(name);
    w.array_length(parts.size());
    for (const PartitionResult& r : parts) {
      w.i32(r.partition);
      w.i16(code(r.error));
      w.i64(r.base_offset);
      if (v >= 2) w.i64(-1);  // log append time: CreateTime topics
      if (v >= 5) w.i64(r.log_start);
      if (v >= 8) {
        w.array_length(0);
        w.nullable_string(std::nullopt);
      }
    }
  }
  w.i32(0);  // throttle
  return finish(w);
}

// --- Fetch -------------------------------------------------------------------------------
// In four steps: parse the request, wait (long poll), read each partition, encode.
struct FetchPartition {
  int32_t partition;
  int64_t offset;
  int32_t max_bytes;
};

struct FetchRequest {
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;  // above 1 treated as 1 (see wait_for_data)
  int32_t max_bytes = INT32_MAX;
  // read_committed (1) reads only below the last stable offset and is told which aborted
  // transactions to skip.
  bool read_committed = false;
  std::vector<std::pair<std::string, std::vector<FetchPartition>>> wanted;
};

std::optional<FetchRequest> parse_fetch(int16_t v, Reader& in) {
  FetchRequest r;
  in.i32();  // replica id
  r.max_wait_ms = in.i32();
  r.min_bytes = in.i32();
  if (v >= 3) r.max_bytes = in.i32();
  r.read_committed = v >= 4 && in.i8() == 1;
  if (v >= 7) {
    in.i32();  // session id
    in.i32();  // session epoch
  }
  const int32_t topics = in.array_length();
  for (int32_t t = 0; t < topics && !in.failed(); ++t) {
    std::string name = in.string();
    std::vector<FetchPartition> parts;
    const int32_t np = in.array_length();
    for (int32_t p = 0; p < np && !in.failed(); ++p) {
      FetchPartition fp{};
      fp.partition = in.i32();
      if (v >= 9) in.i32();  // current leader epoch
      fp.offset = in.i64();
      if (v >= 5) in.i64();  // log start offset (followers only)
      fp.max_bytes = in.i32();
      parts.push_back(fp);
    }
    r.wanted.emplace_back(std::move(name), std::move(parts));
  }
  if (v >= 7) {
    const int32_t forgotten = in.array_length();
    for (int32_t f = 0; f < forgotten && !in.failed(); ++f) {
      in.string();
      const int32_t np = in.array_length();
      for (int32_t p = 0; p < np; ++p) in.i32();
    }
  }
  if (v >= 11) in.string();  // rack
  if (in.failed()) return std::nullopt;
  return r;
}

// Long poll: returns as soon as any partition has data (or an error) to return, or when
// max_wait_ms has passed. A min_bytes above 1 is treated as 1: record sizes are not known
// before they are read, and kvision's consumers never ask for more (src/broker/README.md).
void wait_for_data(HandlerContext& ctx, const FetchRequest& r) {
  auto anything_to_return = [&] {
    for (const auto& [name, parts] : r.wanted) {
      for (const FetchPartition& fp : parts) {
        std::shared_ptr<PartitionLog> log = ctx.store.partition(name, fp.partition);
        if (log == nullptr ||
            fp.offset != (r.read_committed ? log->last_stable_offset() : log->log_end_offset()))
          return true;
      }
    }
    return false;
  };
  const int wait_ms = std::min(r.max_wait_ms, ctx.params.max_fetch_wait_ms);
  if (wait_ms > 0 && !anything_to_return()) ctx.store.wait_for_append(wait_ms, anything_to_return);
}

Response fetch(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  std::optional<FetchRequest> request = parse_fetch(v, in);
  if (!request) return bad_request(h);
  wait_for_data(ctx, *request);
  const auto& wanted = request->wanted;
  const bool read_committed = request->read_committed;
  int32_t max_bytes = request->max_bytes;

  Writer w = start(h);
  w.i32(0);  // throttle (v1+)
  if (v >= 7) {
    w.i16(0);
    w.i32(0);  // session id: no fetch sessions
  }
  w.array_length(wanted.size());
  for (const auto& [name, parts] : wanted) {
    w.string(name);
    w.array_length(parts.size());
    for (const FetchPartition& fp : parts) {
      std::shared_ptr<PartitionLog> log = ctx.store.partition(name, fp.partition);
      KafkaError err = KafkaError::kNone;
      std::vector<uint8_t> data;
      int64_t hw = -1;
      int64_t lso = -1;
      int64_t start_offset = -1;
      std::vector<PartitionLog::AbortedTxn> aborted;
      if (log == nullptr) {
        err = KafkaError::kUnknownTopicOrPartition;
      } else {
        lso = log->last_stable_offset();  // before the end: never past it
        hw = log->log_end_offset();
        start_offset = log->log_start_offset();
        const size_t budget = static_cast<size_t>(std::max(0, std::min(fp.max_bytes, max_bytes)));
        auto read = log->read(fp.offset, budget, read_committed ? lso : INT64_MAX);
        if (read && read_committed && !read->empty())
          aborted = log->aborted_between(fp.offset, lso);
        if (!read) {
          err = is_out_of_range(read.error()) ? KafkaError::kOffsetOutOfRange
                                              : KafkaError::kUnknownTopicOrPartition;
        } else {
          data = std::move(*read);
          max_bytes -=
              static_cast<int32_t>(std::min<size_t>(data.size(), static_cast<size_t>(max_bytes)));
        }
      }
      w.i32(fp.partition);
      w.i16(code(err));
      w.i64(hw);
      w.i64(lso);  // v4+
      if (v >= 5) w.i64(start_offset);
      w.array_length(aborted.size());  // v4+
      for (const PartitionLog::AbortedTxn& a : aborted) {
        w.i64(a.producer_id);
        w.i64(a.first_offset);
      }
      if (v >= 11) w.i32(-1);  // preferred read replica
      w.bytes(data);
    }
  }
  return finish(w);
}

// --- ListOffsets -------------------------------------------------------------------------
Response list_offsets(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  in.i32();  // replica id
  const bool read_committed = v >= 2 && in.i8() == 1;
  Writer w = start(h);
  if (v >= 2) w.i32(0);
  const int32_t topics = in.array_length();
  w.array_length(static_cast<size_t>(topics));
  for (int32_t t = 0; t < topics && !in.failed(); ++t) {
    const std::string name = in.string();
    w.string(name);
    const int32_t np = in.array_length();
    w.array_length(static_cast<size_t>(np));
    for (int32_t p = 0; p < np && !in.failed(); ++p) {
      const int32_t index = in.i32();
      if (v >= 4) in.i32();
      const int64_t timestamp = in.i64();
      std::shared_ptr<PartitionLog> log = ctx.store.partition(name, index);
      w.i32(index);
      if (log == nullptr) {
        w.i16(code(KafkaError::kUnknownTopicOrPartition));
        w.i64(-1);
        w.i64(-1);
      } else {
        // -2 earliest, -1 latest; a time asks for the first offset at or after it (-1 and
        // timestamp -1 when there is none).
        PartitionLog::TimedOffset found;
        if (timestamp == -2) {
          found.offset = log->log_start_offset();
        } else if (timestamp == -1) {
          found.offset = read_committed ? log->last_stable_offset() : log->log_end_offset();
        } else {
          found = log->offset_for_timestamp(timestamp);
        }
        w.i16(0);
        w.i64(found.timestamp_ms);
        w.i64(found.offset);
      }
      if (v >= 4) w.i32(0);
    }
  }
  if (in.failed()) return bad_request(h);
  return finish(w);
}

// --- FindCoordinator ---------------------------------------------------------------------
Response find_coordinator(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  in.string();
  if (h.api_version >= 1) in.i8();
  if (in.failed()) return bad_request(h);
  Writer w = start(h);
  if (h.api_version >= 1) w.i32(0);
  w.i16(0);
  if (h.api_version >= 1) w.nullable_string(std::nullopt);
  w.i32(ctx.params.node_id);
  w.string(ctx.params.advertised_host);
  w.i32(ctx.port);
  return finish(w);
}

// --- The API table ------------------------------------------------------------------------
// Every API this broker serves: its key, the versions it implements and its handler.
// ApiVersions advertises exactly this table, dispatch() routes through it, and the fuzzer
// draws its requests from it. Non-flexible versions, except TxnOffsetCommit v3: clients
// negotiate down to these.
struct ApiEntry {
  ApiRange range;
  Response (*handle)(HandlerContext& ctx, const RequestHeader& h, Reader& in);
};

const std::vector<ApiEntry>& api_table() {
  static const std::vector<ApiEntry> kTable = {
      {{kProduce, 3, 8}, produce},
      {{kFetch, 4, 11}, fetch},
      {{kListOffsets, 1, 5}, list_offsets},
      {{kMetadata, 0, 8}, metadata},
      {{kFindCoordinator, 0, 2}, find_coordinator},
      {{kApiVersions, 0, 2},
       [](HandlerContext&, const RequestHeader& h, Reader&) { return api_versions(h); }},
      {{kCreateTopics, 0, 4}, create_topics},
      {{kInitProducerId, 0, 1}, init_producer_id},
      {{kOffsetCommit, 0, 7}, offset_commit},
      {{kOffsetFetch, 0, 5}, offset_fetch},
      {{kJoinGroup, 0, 5}, join_group},
      {{kHeartbeat, 0, 3}, heartbeat},
      {{kLeaveGroup, 0, 3}, leave_group},
      {{kSyncGroup, 0, 3}, sync_group},
      {{kDescribeGroups, 0, 4}, describe_groups},
      {{kListGroups, 0, 2},
       [](HandlerContext& ctx, const RequestHeader& h, Reader&) { return list_groups(ctx, h); }},
      {{kDeleteTopics, 0, 3}, delete_topics},
      {{kDescribeConfigs, 0, 2}, describe_configs},
      {{kAlterConfigs, 0, 1}, alter_configs},
      {{kIncrementalAlterConfigs, 0, 0}, incremental_alter_configs},
      {{kAddPartitionsToTxn, 0, 2}, add_partitions_to_txn},
      {{kAddOffsetsToTxn, 0, 2}, add_offsets_to_txn},
      {{kEndTxn, 0, 2}, end_txn},
      {{kTxnOffsetCommit, 0, 3}, txn_offset_commit},  // v3 (flexible): KIP-447 fencing
  };
  return kTable;
}

}  // namespace

const std::vector<ApiRange>& supported_apis() {
  static const std::vector<ApiRange> kApis = [] {
    std::vector<ApiRange> out;
    for (const ApiEntry& e : api_table()) out.push_back(e.range);
    return out;
  }();
  return kApis;
}

Result<std::optional<std::vector<uint8_t>>> dispatch(HandlerContext& ctx, const RequestHeader& h,
                                                     Reader& in) {
  for (const ApiEntry& e : api_table()) {
    if (e.range.key != h.api_key) continue;
    // ApiVersions answers a version it does not know too (KIP-511).
    if (h.api_key != kApiVersions &&
        (h.api_version < e.range.min_version || h.api_version > e.range.max_version))
      break;
    return e.handle(ctx, h, in);
  }
  return make_error(ErrorCode::kDecode,
                    fmt::format("unsupported request: api {} v{}", h.api_key, h.api_version));
}

}  // namespace kv::broker
