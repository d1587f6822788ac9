// Builds valid RecordBatch v2 bytes for tests, written from the Kafka protocol's definition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/crc32c.h"
#include "broker/record_batch.h"

namespace kv::broker::testing {

inline void put_varlong(std::vector<uint8_t>& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(static_cast<uint8_t>(z | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<uint8_t>(z));
}

// `records` records whose values are `value_bytes` copies of a letter; timestamps from ts_ms.
inline std::vector<uint8_t> make_batch(int records, int64_t ts_ms, size_t value_bytes = 16,
                                       int64_t producer_id = -1, int16_t epoch = -1,
                                       int32_t base_sequence = -1) {
  std::vector<uint8_t> body;  // the records
  for (int i = 0; i < records; ++i) {
    std::vector<uint8_t> rec;
    rec.push_back(0);      // attributes
    put_varlong(rec, i);   // timestamp delta
    put_varlong(rec, i);   // offset delta
    put_varlong(rec, -1);  // null key
    put_varlong(rec, static_cast<int64_t>(value_bytes));
    rec.insert(rec.end(), value_bytes, static_cast<uint8_t>('a' + i % 26));
    put_varlong(rec, 0);  // no headers
    put_varlong(body, static_cast<int64_t>(rec.size()));
    body.insert(body.end(), rec.begin(), rec.end());
  }
  std::vector<uint8_t> b(kBatchHeaderBytes, 0);
  store_be32(&b[8], static_cast<uint32_t>(kBatchHeaderBytes - kBatchLengthFieldEnd + body.size()));
  b[16] = 2;                                                       // magic
  store_be32(&b[23], static_cast<uint32_t>(records - 1));          // last offset delta
  store_be64(&b[27], static_cast<uint64_t>(ts_ms));                // base timestamp
  store_be64(&b[35], static_cast<uint64_t>(ts_ms + records - 1));  // max timestamp
  store_be64(&b[43], static_cast<uint64_t>(producer_id));
  b[51] = static_cast<uint8_t>(static_cast<uint16_t>(epoch) >> 8);
  b[52] = static_cast<uint8_t>(epoch);
  store_be32(&b[53], static_cast<uint32_t>(base_sequence));
  store_be32(&b[57], static_cast<uint32_t>(records));
  b.insert(b.end(), body.begin(), body.end());
  store_be32(&b[17], crc32c(std::span<const uint8_t>(b).subspan(21)));
  return b;
}

struct TestRecord {
  std::optional<std::string> key;    // nullopt: no key
  std::optional<std::string> value;  // nullopt: a tombstone
};

// One batch of these records, offsets deltas 0..n-1; transactional if asked.
inline std::vector<uint8_t> make_keyed_batch(const std::vector<TestRecord>& records, int64_t ts_ms,
                                             int64_t producer_id = -1, int16_t epoch = -1,
                                             int32_t base_sequence = -1,
                                             bool transactional = false) {
  std::vector<uint8_t> body;
  for (size_t i = 0; i < records.size(); ++i) {
    std::vector<uint8_t> rec;
    rec.push_back(0);
    put_varlong(rec, static_cast<int64_t>(i));
    put_varlong(rec, static_cast<int64_t>(i));
    for (const auto* field : {&records[i].key, &records[i].value}) {
      if (!*field) {
        put_varlong(rec, -1);
      } else {
        put_varlong(rec, static_cast<int64_t>((*field)->size()));
        rec.insert(rec.end(), (*field)->begin(), (*field)->end());
      }
    }
    put_varlong(rec, 0);
    put_varlong(body, static_cast<int64_t>(rec.size()));
    body.insert(body.end(), rec.begin(), rec.end());
  }
  const auto n = static_cast<int64_t>(records.size());
  std::vector<uint8_t> b(kBatchHeaderBytes, 0);
  store_be32(&b[8], static_cast<uint32_t>(kBatchHeaderBytes - kBatchLengthFieldEnd + body.size()));
  b[16] = 2;
  b[22] = transactional ? 0x10 : 0;
  store_be32(&b[23], static_cast<uint32_t>(n - 1));
  store_be64(&b[27], static_cast<uint64_t>(ts_ms));
  store_be64(&b[35], static_cast<uint64_t>(ts_ms + n - 1));
  store_be64(&b[43], static_cast<uint64_t>(producer_id));
  b[51] = static_cast<uint8_t>(static_cast<uint16_t>(epoch) >> 8);
  b[52] = static_cast<uint8_t>(epoch);
  store_be32(&b[53], static_cast<uint32_t>(base_sequence));
  store_be32(&b[57], static_cast<uint32_t>(n));
  b.insert(b.end(), body.begin(), body.end());
  store_be32(&b[17], crc32c(std::span<const uint8_t>(b).subspan(21)));
  return b;
}

}  // namespace kv::broker::testing
