// The transaction APIs (KIP-98): InitProducerId for transactional ids, AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit (v3 is flexible and carries the consumer's generation,
// KIP-447) and EndTxn. The state lives in TxnCoordinator.
#include "broker/handlers.h"
#include "broker/txn_coordinator.h"

namespace kv::broker {
namespace handler_detail {

Response init_producer_id(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const std::optional<std::string> txn_id = in.nullable_string();
  const int32_t timeout_ms = in.i32();
  if (in.failed()) return bad_request(h);
  ProducerIdentity id;
  if (txn_id.has_value()) {
    id = ctx.txns.init_producer(*txn_id, timeout_ms);
  } else {
    id = {0, ctx.txns.new_producer_id(), 0};  // idempotent only
  }
  Writer w = start(h);
  w.i32(0);
  w.i16(id.error);
  w.i64(id.producer_id);
  w.i16(id.epoch);
  return finish(w);
}

Response add_partitions_to_txn(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const std::string txn_id = in.string();
  const int64_t pid = in.i64();
  const int16_t epoch = in.i16();
  TopicPartitions topics;
  std::vector<std::pair<std::string, int32_t>> all;
  const int32_t nt = in.array_length();
  for (int32_t t = 0; t < nt && !in.failed(); ++t) {
    auto& [name, parts] = topics.emplace_back(in.string(), std::vector<int32_t>{});
    const int32_t np = in.array_length();
    for (int32_t p = 0; p < np && !in.failed(); ++p) {
      parts.push_back(in.i32());
      all.emplace_back(name, parts.back());
    }
  }
  if (in.failed()) return bad_request(h);
  const int16_t error = ctx.txns.add_partitions(txn_id, pid, epoch, all);
  Writer w = start(h);
  w.i32(0);
  write_partition_errors(w, topics, error);
  return finish(w);
}

Response add_offsets_to_txn(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const std::string txn_id = in.string();
  const int64_t pid = in.i64();
  const int16_t epoch = in.i16();
  const std::string group = in.string();
  if (in.failed()) return bad_request(h);
  Writer w = start(h);
  w.i32(0);
  w.i16(ctx.txns.add_offsets(txn_id, pid, epoch, group));
  return finish(w);
}

Response txn_offset_commit(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  const bool flexible = v >= 3;
  if (flexible) in.skip_tagged_fields();  // request header v2
  auto str = [&] { return flexible ? in.compact_string() : in.string(); };
  auto array = [&] { return flexible ? in.compact_array_length() : in.array_length(); };
  const std::string txn_id = str();
  const std::string group = str();
  const int64_t pid = in.i64();
  const int16_t epoch = in.i16();
  int32_t generation = -1;
  std::string member_id;
  if (flexible) {
    generation = in.i32();
    member_id = in.compact_string();
    in.compact_nullable_string();  // group instance id
  }
  std::vector<TxnOffset> offsets;
  TopicPartitions topics;
  const int32_t nt = array();
  for (int32_t t = 0; t < nt && !in.failed(); ++t) {
    auto& [name, parts] = topics.emplace_back(str(), std::vector<int32_t>{});
    const int32_t np = array();
    for (int32_t p = 0; p < np && !in.failed(); ++p) {
      const int32_t partition = in.i32();
      const int64_t offset = in.i64();
      if (v >= 2) in.i32();  // committed leader epoch
      std::optional<std::string> metadata =
          flexible ? in.compact_nullable_string() : in.nullable_string();
      if (flexible) in.skip_tagged_fields();
      parts.push_back(partition);
      offsets.emplace_back(name, partition, offset, metadata.value_or(""));
    }
    if (flexible) in.skip_tagged_fields();
  }
  if (flexible) in.skip_tagged_fields();
  if (in.failed()) return bad_request(h);
  const int16_t error =
      ctx.txns.commit_offsets(txn_id, pid, epoch, group, generation, member_id, offsets);

  Writer w = start(h);
  if (flexible) w.no_tagged_fields();  // response header v1
  w.i32(0);
  flexible ? w.compact_array_length(topics.size()) : w.array_length(topics.size());
  for (const auto& [name, parts] : topics) {
    flexible ? w.compact_string(name) : w.string(name);
    flexible ? w.compact_array_length(parts.size()) : w.array_length(parts.size());
    for (int32_t p : parts) {
      w.i32(p);
      w.i16(error);
      if (flexible) w.no_tagged_fields();
    }
    if (flexible) w.no_tagged_fields();
  }
  if (flexible) w.no_tagged_fields();
  return finish(w);
}

Response end_txn(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const std::string txn_id = in.string();
  const int64_t pid = in.i64();
  const int16_t epoch = in.i16();
  const bool commit = in.i8() != 0;
  if (in.failed()) return bad_request(h);
  Writer w = start(h);
  w.i32(0);
  w.i16(ctx.txns.end(txn_id, pid, epoch, commit));
  return finish(w);
}

}  // namespace handler_detail
}  // namespace kv::broker
