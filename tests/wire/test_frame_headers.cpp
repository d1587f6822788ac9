#include <gtest/gtest.h>

#include "wire/frame_headers.h"

namespace kv::wire {
namespace {

FrameMeta sample() {
  FrameMeta m;
  m.camera = "lobby-2";
  m.seq = 41;
  m.session_us = 1700000000000000;
  m.stream_pos_ms = 4100;
  m.capture_us = 1700000004100123;
  m.width = 768;
  m.height = 576;
  return m;
}

TEST(FrameHeaders, RoundTrip) {
  const FrameMeta in = sample();
  auto out = decode_frame_headers(encode_frame_headers(in));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->camera, in.camera);
  EXPECT_EQ(out->seq, in.seq);
  EXPECT_EQ(out->session_us, in.session_us);
  EXPECT_EQ(out->stream_pos_ms, in.stream_pos_ms);
  EXPECT_EQ(out->capture_us, in.capture_us);
  EXPECT_EQ(out->width, in.width);
  EXPECT_EQ(out->height, in.height);
  EXPECT_EQ(out->format, "jpeg");
}

TEST(FrameHeaders, StalenessLimitIsOptional) {
  FrameMeta live = sample();
  live.stale_after_ms = 2000;
  const Headers h = encode_frame_headers(live);
  ASSERT_NE(find_header(h, kHdrStaleAfter), nullptr);
  auto out = decode_frame_headers(h);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->stale_after_ms, 2000);
  // A file's frames carry none, and read back as "never stale".
  const Headers file = encode_frame_headers(sample());
  EXPECT_EQ(find_header(file, kHdrStaleAfter), nullptr);
  EXPECT_EQ(decode_frame_headers(file)->stale_after_ms, 0);
  Headers bad = h;
  for (Header& x : bad)
    if (x.first == kHdrStaleAfter) x.second = "soon";
  EXPECT_FALSE(decode_frame_headers(bad).ok());
}

TEST(FrameHeaders, CarriesSchemaVersion) {
  const Headers h = encode_frame_headers(sample());
  const std::string* schema = find_header(h, kHdrSchema);
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(*schema, std::to_string(kSchemaVersion));
}

TEST(FrameHeaders, MissingHeaderIsNamed) {
  Headers h = encode_frame_headers(sample());
  std::erase_if(h, [](const Header& x) { return x.first == kHdrSeq; });
  auto out = decode_frame_headers(h);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find(kHdrSeq), std::string::npos);
}

TEST(FrameHeaders, GarbledNumberIsRejected) {
  for (const char* bad : {"12x", "", "-1", "99999999999999999999"}) {
    Headers h = encode_frame_headers(sample());
    for (auto& [k, v] : h) {
      if (k == kHdrSeq) v = bad;
    }
    EXPECT_FALSE(decode_frame_headers(h).ok()) << "accepted seq '" << bad << "'";
  }
}

TEST(FrameHeaders, ZeroWidthIsRejected) {
  Headers h = encode_frame_headers(sample());
  for (auto& [k, v] : h) {
    if (k == kHdrWidth) v = "0";
  }
  EXPECT_FALSE(decode_frame_headers(h).ok());
}

TEST(FrameHeaders, NewerSchemaIsRejected) {
  Headers h = encode_frame_headers(sample());
  for (auto& [k, v] : h) {
    if (k == kHdrSchema) v = std::to_string(kSchemaVersion + 1);
  }
  auto out = decode_frame_headers(h);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("newer"), std::string::npos);
}

TEST(FrameHeaders, UnknownHeadersAreIgnored) {
  Headers h = encode_frame_headers(sample());
  h.emplace_back("traceparent", "00-abc");
  EXPECT_TRUE(decode_frame_headers(h).ok());
}

}  // namespace
}  // namespace kv::wire
