// Kafka RecordBatch v2 (magic 2): the unit the broker stores and serves. The broker reads and
// validates the header and rewrites only the base offset; records stay as the producer sent
// them, compressed or not.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"

namespace kv::broker {

inline constexpr size_t kBatchHeaderBytes = 61;
inline constexpr size_t kBatchLengthFieldEnd = 12;  // baseOffset (8) + batchLength (4)

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after the batchLength field
  int32_t partition_leader_epoch = 0;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  size_t total_bytes() const { return kBatchLengthFieldEnd + static_cast<size_t>(batch_length); }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
};

// Parses the header at the start of `bytes`. Errors: too short, wrong magic, a length that
// runs past `room` bytes (default: the buffer; a log scan that has read only the header
// passes what is left of its file), or nonsense counts. Does not check the CRC.
Result<BatchHeader> parse_batch_header(std::span<const uint8_t> bytes,
                                       std::optional<size_t> room = std::nullopt);

// True if the CRC-32C over attributes..end matches the header's crc field.
bool batch_crc_ok(std::span<const uint8_t> batch);

// Rewrites the base offset in place (the CRC does not cover it).
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);

// Transaction markers (KIP-98): a control batch (attributes transactional | control) holding
// one record whose key is {version 0, type} (type 0 abort, 1 commit) and whose value is
// {version 0, coordinator epoch}. Built with base offset 0 and a valid CRC.
std::vector<uint8_t> make_control_batch(int64_t producer_id, int16_t producer_epoch, bool commit,
                                        int64_t timestamp_ms);
// For a control batch: true for a commit marker, false for an abort, nullopt if the record in
// it cannot be read or is of another control type.
std::optional<bool> control_batch_is_commit(std::span<const uint8_t> batch);

// One record of an uncompressed batch, as compaction sees it: where it lies in the batch, its
// offset delta, its key and its value (nullopt: null; a null value is a tombstone).
struct RecordView {
  size_t begin = 0;  // the record's length varint
  size_t end = 0;    // one past its last byte
  int32_t offset_delta = 0;
  std::optional<std::span<const uint8_t>> key;
  std::optional<std::span<const uint8_t>> value;
};
inline constexpr int16_t kCompressionMask = 0x07;
// The records of an uncompressed batch; an error if the batch is compressed or a record runs
// past the batch or its count disagrees with the header.
Result<std::vector<RecordView>> batch_records(std::span<const uint8_t> batch);
// A copy of `batch` holding only `keep` (records of it, in order): the header's base offset,
// last offset delta, timestamps and producer fields stay, so every offset is kept; the record
// count, length and CRC are rewritten.
std::vector<uint8_t> rebuild_batch(std::span<const uint8_t> batch,
                                   const std::vector<RecordView>& keep);

// Big-endian helpers shared by the storage and protocol code.
inline uint32_t load_be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}
inline uint64_t load_be64(const uint8_t* p) {
  return static_cast<uint64_t>(load_be32(p)) << 32 | load_be32(p + 4);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}

}  // namespace kv::broker
