#include "broker/record_batch.h"

#include <fmt/format.h>

#include "broker/crc32c.h"

namespace kv::broker {

Result<BatchHeader> parse_batch_header(std::span<const uint8_t> b, std::optional<size_t> room) {
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
      h.total_bytes() > room.value_or(b.size())) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("record batch length {} does not fit the {} bytes given",
                                  h.batch_length, room.value_or(b.size())));
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

namespace {

void put_varint(std::vector<uint8_t>& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);  // zigzag
  while (z >= 0x80) {
    out.push_back(static_cast<uint8_t>(z | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<uint8_t>(z));
}

std::optional<int64_t> get_varint(std::span<const uint8_t> b, size_t& pos) {
  uint64_t z = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= b.size()) return std::nullopt;
    const uint8_t byte = b[pos++];
    z |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  }
  return std::nullopt;
}

}  // namespace

std::vector<uint8_t> make_control_batch(int64_t producer_id, int16_t producer_epoch, bool commit,
                                        int64_t timestamp_ms) {
  std::vector<uint8_t> record;
  record.push_back(0);    // record attributes
  put_varint(record, 0);  // timestamp delta
  put_varint(record, 0);  // offset delta
  put_varint(record, 4);  // key: version, type
  record.insert(record.end(), {0, 0, 0, static_cast<uint8_t>(commit ? 1 : 0)});
  put_varint(record, 6);  // value: version, coordinator epoch
  record.insert(record.end(), {0, 0, 0, 0, 0, 0});
  put_varint(record, 0);  // no headers
  std::vector<uint8_t> body;
  put_varint(body, static_cast<int64_t>(record.size()));
  body.insert(body.end(), record.begin(), record.end());

  std::vector<uint8_t> b(kBatchHeaderBytes + body.size(), 0);
  uint8_t* p = b.data();
  store_be32(p + 8, static_cast<uint32_t>(b.size() - kBatchLengthFieldEnd));
  p[16] = 2;     // magic
  p[22] = 0x30;  // attributes: transactional | control
  store_be64(p + 27, static_cast<uint64_t>(timestamp_ms));
  store_be64(p + 35, static_cast<uint64_t>(timestamp_ms));
  store_be64(p + 43, static_cast<uint64_t>(producer_id));
  p[51] = static_cast<uint8_t>(static_cast<uint16_t>(producer_epoch) >> 8);
  p[52] = static_cast<uint8_t>(producer_epoch);
  store_be32(p + 53, 0xffffffffU);  // base sequence -1
  store_be32(p + 57, 1);            // one record
  std::copy(body.begin(), body.end(), b.begin() + kBatchHeaderBytes);
  store_be32(p + 17, crc32c(std::span<const uint8_t>(b).subspan(21)));
  return b;
}

std::optional<bool> control_batch_is_commit(std::span<const uint8_t> batch) {
  auto h = parse_batch_header(batch);
  if (!h || !h->is_control() || h->record_count < 1) return std::nullopt;
  const std::span<const uint8_t> records = batch.subspan(0, h->total_bytes());
  size_t pos = kBatchHeaderBytes;
  if (!get_varint(records, pos) || pos >= records.size()) return std::nullopt;  // length
  ++pos;                                                                        // record attributes
  if (!get_varint(records, pos) || !get_varint(records, pos)) return std::nullopt;
  auto key_len = get_varint(records, pos);
  if (!key_len || *key_len < 4 || pos + 4 > records.size()) return std::nullopt;
  const int16_t type = static_cast<int16_t>(records[pos + 2] << 8 | records[pos + 3]);
  if (type != 0 && type != 1) return std::nullopt;
  return type == 1;
}

Result<std::vector<RecordView>> batch_records(std::span<const uint8_t> batch) {
  auto h = parse_batch_header(batch);
  if (!h) return h.error();
  if ((h->attributes & kCompressionMask) != 0)
    return make_error(ErrorCode::kInvalidArgument, "the batch is compressed");
  const std::span<const uint8_t> b = batch.subspan(0, h->total_bytes());
  std::vector<RecordView> out;
  out.reserve(static_cast<size_t>(h->record_count));
  size_t pos = kBatchHeaderBytes;
  const auto bad = [&](const char* what) {
    return make_error(ErrorCode::kDecode, fmt::format("record {} of the batch at offset {}: {}",
                                                      out.size(), h->base_offset, what));
  };
  while (pos < b.size()) {
    RecordView r;
    r.begin = pos;
    auto length = get_varint(b, pos);
    if (!length || *length < 1 || *length > static_cast<int64_t>(b.size() - pos))
      return bad("bad length");
    r.end = pos + static_cast<size_t>(*length);
    const std::span<const uint8_t> rec = b.subspan(0, r.end);
    ++pos;  // attributes
    auto ts_delta = get_varint(rec, pos);
    auto offset_delta = get_varint(rec, pos);
    auto key_len = get_varint(rec, pos);
    if (!ts_delta || !offset_delta || !key_len || *offset_delta < 0 ||
        *offset_delta > h->last_offset_delta || *key_len < -1 ||
        *key_len > static_cast<int64_t>(rec.size() - pos))
      return bad("bad fields");
    r.offset_delta = static_cast<int32_t>(*offset_delta);
    if (*key_len >= 0) {
      r.key = rec.subspan(pos, static_cast<size_t>(*key_len));
      pos += static_cast<size_t>(*key_len);
    }
    auto value_len = get_varint(rec, pos);
    if (!value_len || *value_len < -1 || *value_len > static_cast<int64_t>(rec.size() - pos))
      return bad("bad value length");
    if (*value_len >= 0) r.value = rec.subspan(pos, static_cast<size_t>(*value_len));
    out.push_back(r);
    pos = r.end;
  }
  if (static_cast<int32_t>(out.size()) != h->record_count) return bad("count mismatch");
  return out;
}

std::vector<uint8_t> rebuild_batch(std::span<const uint8_t> batch,
                                   const std::vector<RecordView>& keep) {
  std::vector<uint8_t> out(batch.begin(), batch.begin() + kBatchHeaderBytes);
  for (const RecordView& r : keep)
    out.insert(out.end(), batch.begin() + r.begin, batch.begin() + r.end);
  uint8_t* p = out.data();
  store_be32(p + 8, static_cast<uint32_t>(out.size() - kBatchLengthFieldEnd));
  store_be32(p + 57, static_cast<uint32_t>(keep.size()));
  store_be32(p + 17, crc32c(std::span<const uint8_t>(out).subspan(21)));
  return out;
}

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  store_be64(batch.data(), static_cast<uint64_t>(base_offset));
}

}  // namespace kv::broker
