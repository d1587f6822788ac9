#include "broker/record_batch.h"

#include <fmt/format.h>

#include "broker/crc32c.h"

namespace kv::broker {

Result<BatchHeader> parse_batch_header(std::span<const uint8_t> b) {
  if (b.size() < kBatchHeaderBytes) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("record batch of {} bytes is shorter than its header", b.size()));
  }
  const uint8_t* p = b.data();
  BatchHeader h;
  h.base_offset = static_cast<int64_t>(load_be64(p));
  h.batch_length = static_cast<int32_t>(load_be32(p + 8));
  h.partition_leader_epoch = static_cast<int32_t>(load_be32(p + 12));
  h.magic = static_cast<int8_t>(p[16]);
  h.crc = load_be32(p + 17);
  h.attributes = static_cast<int16_t>(static_cast<uint16_t>(p[21] << 8 | p[22]));
  h.last_offset_delta = static_cast<int32_t>(load_be32(p + 23));
  h.base_timestamp = static_cast<int64_t>(load_be64(p + 27));
  h.max_timestamp = static_cast<int64_t>(load_be64(p + 35));
  h.producer_id = static_cast<int64_t>(load_be64(p + 43));
  h.producer_epoch = static_cast<int16_t>(static_cast<uint16_t>(p[51] << 8 | p[52]));
  h.base_sequence = static_cast<int32_t>(load_be32(p + 53));
  h.record_count = static_cast<int32_t>(load_be32(p + 57));
  if (h.magic != 2)
    return make_error(ErrorCode::kDecode, fmt::format("record batch magic {} is not 2", h.magic));
  if (h.batch_length < static_cast<int32_t>(kBatchHeaderBytes - kBatchLengthFieldEnd) ||
      h.total_bytes() > b.size()) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("record batch length {} does not fit the {} bytes given",
                                  h.batch_length, b.size()));
  }
  if (h.record_count < 0 || h.last_offset_delta < 0) {
    return make_error(ErrorCode::kDecode,
                      "record batch has a negative record count or offset delta");
  }
  return h;
}

bool batch_crc_ok(std::span<const uint8_t> batch) {
  auto h = parse_batch_header(batch);
  if (!h) return false;
  return crc32c(batch.subspan(21, h->total_bytes() - 21)) == h->crc;
}

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  store_be64(batch.data(), static_cast<uint64_t>(base_offset));
}

}  // namespace kv::broker
