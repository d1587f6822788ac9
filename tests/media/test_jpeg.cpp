#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "media/jpeg.h"

namespace kv::media {
namespace {

cv::Mat gradient(int w, int h) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x)
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(x % 256, y % 256, (x + y) % 256);
  }
  cv::circle(img, {w / 2, h / 2}, h / 4, cv::Scalar(255, 255, 255), -1);
  return img;
}

// 200 bytes that start with SOI and end with EOI but hold no JPEG.
std::vector<uint8_t> garbage_with_jpeg_markers() {
  std::vector<uint8_t> junk(200, 0x41);
  junk[0] = 0xFF;
  junk[1] = 0xD8;
  junk[2] = 0xFF;
  junk[198] = 0xFF;
  junk[199] = 0xD9;
  return junk;
}

TEST(Jpeg, RoundTripKeepsSizeAndContent) {
  const cv::Mat img = gradient(768, 576);
  auto bytes = encode_jpeg(img, 90);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(looks_like_jpeg(*bytes));
  auto back = decode_jpeg(*bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->cols, 768);
  EXPECT_EQ(back->rows, 576);
  EXPECT_EQ(back->type(), CV_8UC3);
  cv::Mat diff;
  cv::absdiff(img, *back, diff);
  EXPECT_LT(cv::mean(diff)[0], 4.0);  // lossy, but close at quality 90
}

TEST(Jpeg, DecodesAtTheSmallestScaleThatCoversTheTarget) {
  const cv::Mat img = gradient(768, 576);
  auto bytes = encode_jpeg(img, 90);
  ASSERT_TRUE(bytes.ok());
  cv::Size original;
  auto for_yolox = decode_jpeg_at_least(*bytes, {416, 312}, &original);
  ASSERT_TRUE(for_yolox.ok()) << for_yolox.error().message;
  EXPECT_EQ(original, cv::Size(768, 576));
  // 4/8 would be 384 wide, and 5/8 to 7/8 decode slower than 8/8 (no SIMD IDCT).
  EXPECT_EQ(for_yolox->size(), cv::Size(768, 576));
  auto for_small = decode_jpeg_at_least(*bytes, {300, 200}, nullptr);
  ASSERT_TRUE(for_small.ok());
  EXPECT_EQ(for_small->size(), cv::Size(384, 288));  // 4/8
  // The content is the same picture, scaled.
  cv::Mat small;
  cv::resize(img, small, {384, 288}, 0, 0, cv::INTER_AREA);
  cv::Mat diff;
  cv::absdiff(small, *for_small, diff);
  EXPECT_LT(cv::mean(diff)[0], 6.0);
  EXPECT_EQ(decode_jpeg_at_least(*bytes, {190, 140}, nullptr)->size(), cv::Size(192, 144));
  EXPECT_EQ(decode_jpeg_at_least(*bytes, {0, 0}, nullptr)->size(), cv::Size(96, 72));  // 1/8
  EXPECT_EQ(decode_jpeg_at_least(*bytes, {385, 10}, nullptr)->size(), cv::Size(768, 576));
  EXPECT_EQ(decode_jpeg_at_least(*bytes, {2000, 2000}, nullptr)->size(), cv::Size(768, 576));
  // Same refusals as decode_jpeg.
  std::vector<uint8_t> cut(bytes->begin(), bytes->begin() + static_cast<long>(bytes->size() / 2));
  EXPECT_FALSE(decode_jpeg_at_least(cut, {416, 312}, nullptr).ok());
  const std::vector<uint8_t> junk = garbage_with_jpeg_markers();
  auto bad = decode_jpeg_at_least(junk, {416, 312}, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kDecode);
}

TEST(Jpeg, QualityTradesSize) {
  const cv::Mat img = gradient(320, 240);
  auto low = encode_jpeg(img, 20);
  auto high = encode_jpeg(img, 95);
  ASSERT_TRUE(low.ok() && high.ok());
  EXPECT_LT(low->size(), high->size());
}

TEST(Jpeg, RejectsBadQualityAndEmptyImage) {
  EXPECT_FALSE(encode_jpeg(gradient(8, 8), 0).ok());
  EXPECT_FALSE(encode_jpeg(gradient(8, 8), 101).ok());
  EXPECT_FALSE(encode_jpeg(cv::Mat(), 80).ok());
}

TEST(Jpeg, EncodesGreyAndBgraAndRefusesOtherTypes) {
  const cv::Mat bgr = gradient(64, 48);
  cv::Mat grey;
  cv::Mat bgra;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  for (const cv::Mat* m : {&grey, &bgra}) {
    auto bytes = encode_jpeg(*m, 90);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    auto back = decode_jpeg(*bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->size(), cv::Size(64, 48));
    cv::Mat expected;
    if (m == &grey) {
      cv::cvtColor(grey, expected, cv::COLOR_GRAY2BGR);
    } else {
      expected = bgr;
    }
    cv::Mat diff;
    cv::absdiff(expected, *back, diff);
    EXPECT_LT(cv::mean(diff)[0], 4.0);
  }
  auto wide = encode_jpeg(cv::Mat(8, 8, CV_16UC3, cv::Scalar::all(1000)), 80);
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.error().message.find("8-bit"), std::string::npos) << wide.error().message;
  // A region of a larger image (rows not contiguous) encodes as itself.
  const cv::Mat big = gradient(200, 100);
  auto roi = encode_jpeg(big(cv::Rect(50, 20, 64, 48)), 95);
  ASSERT_TRUE(roi.ok());
  cv::Mat diff;
  cv::absdiff(big(cv::Rect(50, 20, 64, 48)), *decode_jpeg(*roi), diff);
  EXPECT_LT(cv::mean(diff)[0], 3.0);
}

TEST(Jpeg, GreyscaleDecodesToBgr) {
  cv::Mat grey(48, 64, CV_8UC1);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) grey.at<uint8_t>(y, x) = static_cast<uint8_t>(x * 4);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(cv::imencode(".jpg", grey, bytes, {cv::IMWRITE_JPEG_QUALITY, 95}));
  auto r = decode_jpeg(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->type(), CV_8UC3);
  std::vector<cv::Mat> planes;
  cv::split(*r, planes);
  cv::Mat diff;
  cv::absdiff(planes[0], grey, diff);
  EXPECT_LT(cv::mean(diff)[0], 2.0);
  EXPECT_EQ(cv::countNonZero(planes[0] != planes[2]), 0);
}

TEST(Jpeg, RejectsNonJpegBytes) {
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  auto r = decode_jpeg(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kDecode);
  EXPECT_FALSE(decode_jpeg(std::vector<uint8_t>{}).ok());
}

TEST(Jpeg, RejectsPng) {
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", gradient(16, 16), png));
  EXPECT_FALSE(decode_jpeg(png).ok());
}

TEST(Jpeg, RejectsTruncatedJpeg) {
  auto bytes = encode_jpeg(gradient(128, 128), 80);
  ASSERT_TRUE(bytes.ok());
  bytes->resize(bytes->size() / 2);
  auto r = decode_jpeg(*bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos);
}

TEST(Jpeg, RejectsGarbageWithJpegMagic) {
  const std::vector<uint8_t> junk = garbage_with_jpeg_markers();
  EXPECT_FALSE(decode_jpeg(junk).ok());
}

}  // namespace
}  // namespace kv::media

namespace kv::media {
namespace {

TEST(Jpeg, DimensionsFromTheFrameHeader) {
  cv::Mat img(37, 53, CV_8UC3, cv::Scalar(1, 2, 3));
  auto bytes = encode_jpeg(img, 80);
  ASSERT_TRUE(bytes.ok());
  auto size = jpeg_dimensions(*bytes);
  ASSERT_TRUE(size.ok()) << size.error().message;
  EXPECT_EQ(size->width, 53);
  EXPECT_EQ(size->height, 37);
}

// Regression (found by fuzz_jpeg): a header claiming 65497x15832 pixels made libjpeg allocate
// gigabytes before failing. It must be refused from the header alone.
TEST(Jpeg, HugeClaimedDimensionsAreRefusedBeforeDecoding) {
  std::ifstream in(std::string(KV_SOURCE_DIR) + "/tests/media/regressions/jpeg_huge_dimensions.jpg",
                   std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 100u);
  auto size = jpeg_dimensions(bytes);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size->width, 65497);
  auto r = decode_jpeg(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("65497x15832"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace kv::media
