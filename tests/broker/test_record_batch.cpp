#include <gtest/gtest.h>

#include <string_view>

#include "batch_builder.h"
#include "broker/crc32c.h"
#include "broker/record_batch.h"

namespace kv::broker {
namespace {

TEST(Crc32c, KnownVectors) {
  const std::string_view digits = "123456789";
  EXPECT_EQ(crc32c({reinterpret_cast<const uint8_t*>(digits.data()), digits.size()}), 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4
  std::vector<uint8_t> ones(32, 0xFF);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
}

TEST(Crc32c, IncrementalEqualsWhole) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  const uint32_t whole = crc32c(data);
  const uint32_t part = crc32c(std::span<const uint8_t>(data).subspan(333),
                               crc32c(std::span<const uint8_t>(data).first(333)));
  EXPECT_EQ(whole, part);
}

TEST(Crc32c, HardwareAndPortableAgree) {
  std::vector<uint8_t> data(70001);
  uint32_t x = 12345;
  for (uint8_t& b : data) b = static_cast<uint8_t>((x = x * 1103515245u + 12345u) >> 16);
  const std::string_view digits = "123456789";
  EXPECT_EQ(crc32c_portable({reinterpret_cast<const uint8_t*>(digits.data()), digits.size()}),
            0xE3069283u);
  // Every length up to 40 (the tails), unaligned starts, and a frame-sized buffer.
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; len <= 40; ++len) {
      const auto part = std::span<const uint8_t>(data).subspan(start, len);
      ASSERT_EQ(crc32c(part, 7), crc32c_portable(part, 7)) << start << "+" << len;
    }
  }
  EXPECT_EQ(crc32c(data), crc32c_portable(data));
}

TEST(RecordBatch, ParsesHeaderAndChecksCrc) {
  auto b = testing::make_batch(5, 1000);
  auto h = parse_batch_header(b);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->magic, 2);
  EXPECT_EQ(h->record_count, 5);
  EXPECT_EQ(h->last_offset_delta, 4);
  EXPECT_EQ(h->max_timestamp, 1004);
  EXPECT_EQ(h->total_bytes(), b.size());
  EXPECT_TRUE(batch_crc_ok(b));
  b.back() ^= 0x01;
  EXPECT_FALSE(batch_crc_ok(b)) << "a flipped bit in a record must fail the CRC";
}

}  // namespace
}  // namespace kv::broker

namespace kv::broker {
namespace {

TEST(RecordBatch, BaseOffsetIsOutsideTheCrc) {
  auto b = testing::make_batch(2, 0);
  set_base_offset(b, 123456);
  EXPECT_EQ(parse_batch_header(b)->base_offset, 123456);
  EXPECT_TRUE(batch_crc_ok(b));
}

TEST(RecordBatch, RejectsShortWrongMagicAndOverlongLength) {
  auto b = testing::make_batch(1, 0);
  EXPECT_FALSE(parse_batch_header(std::span<const uint8_t>(b).first(30)).ok());
  auto wrong_magic = b;
  wrong_magic[16] = 1;
  EXPECT_FALSE(parse_batch_header(wrong_magic).ok());
  auto truncated = b;
  truncated.resize(b.size() - 1);
  EXPECT_FALSE(parse_batch_header(truncated).ok());
}

}  // namespace
}  // namespace kv::broker
