#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "media/frame_source.h"
#include "test_paths.h"

namespace kv::media {
namespace {
namespace fs = std::filesystem;

std::string vtest() {
  return kv::testing::data_dir() + "/vtest.avi";
}

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("kv_media_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

TEST(FrameSource, MissingFileIsNotFound) {
  auto s = FrameSource::open("/nonexistent/video.mp4");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_NE(s.error().message.find("/nonexistent/video.mp4"), std::string::npos);
}

TEST(FrameSource, TextFileIsNotAVideo) {
  const fs::path p = temp_dir() / "notes.mp4";
  std::ofstream(p) << "this is not a video, just some text\n";
  auto s = FrameSource::open(p.string());
  if (s.ok()) {  // some demuxers accept anything; then reading must fail
    RawFrame f;
    auto r = (*s)->read(f);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kDecode);
  } else {
    EXPECT_EQ(s.error().code, ErrorCode::kDecode);
    EXPECT_NE(s.error().message.find("not a video"), std::string::npos);
  }
}

TEST(FrameSource, EmptyFileIsAnError) {
  const fs::path p = temp_dir() / "empty.avi";
  std::ofstream{p};
  EXPECT_FALSE(FrameSource::open(p.string()).ok());
}

TEST(FrameSource, ReadsVtest) {
  KV_REQUIRE_FILE(vtest());
  auto s = FrameSource::open(vtest());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->info().width, 768);
  EXPECT_EQ((*s)->info().height, 576);
  EXPECT_EQ((*s)->info().frame_count, 795);
  RawFrame f;
  for (int i = 0; i < 3; ++i) {
    auto r = (*s)->read(f);
    ASSERT_TRUE(r.ok() && *r);
    EXPECT_EQ(f.index, i);
    EXPECT_NEAR(f.pos_ms, i * 100.0, 1.0);  // 10 fps
    EXPECT_EQ(f.bgr.cols, 768);
    EXPECT_GT(f.capture_us, 0);
  }
}

TEST(FrameSource, TruncatedVideoIsReported) {
  KV_REQUIRE_FILE(vtest());
  const fs::path p = temp_dir() / "truncated.avi";
  fs::copy_file(vtest(), p, fs::copy_options::overwrite_existing);
  fs::resize_file(p, fs::file_size(p) * 3 / 10);
  auto s = FrameSource::open(p.string());
  if (!s.ok()) {
    EXPECT_EQ(s.error().code, ErrorCode::kDecode);
    return;
  }
  RawFrame f;
  int64_t frames = 0;
  Result<bool> r = true;
  while ((r = (*s)->read(f)).ok() && *r) ++frames;
  ASSERT_FALSE(r.ok()) << "a truncated file read to its end without an error after " << frames
                       << " frames";
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos) << r.error().message;
  EXPECT_GT(frames, 0);
}

TEST(FrameSource, ImageFolderInNameOrderSkippingUnreadable) {
  const fs::path d = temp_dir() / "folder";
  fs::create_directories(d);
  cv::Mat img(40, 60, CV_8UC3, cv::Scalar(10, 20, 30));
  ASSERT_TRUE(cv::imwrite((d / "b.png").string(), img));
  ASSERT_TRUE(cv::imwrite((d / "a.jpg").string(), img));
  std::ofstream(d / "c.jpg") << "broken";
  std::ofstream(d / "readme.txt") << "ignored";
  auto s = FrameSource::open(d.string());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->info().kind, SourceKind::kImageFolder);
  RawFrame f;
  ASSERT_TRUE(*(*s)->read(f));
  EXPECT_EQ(f.index, 0);  // a.jpg
  ASSERT_TRUE(*(*s)->read(f));
  EXPECT_EQ(f.index, 1);  // b.png
  EXPECT_EQ(f.bgr.cols, 60);
  auto end = (*s)->read(f);  // c.jpg is skipped
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
}

TEST(FrameSource, EmptyFolderIsAnError) {
  const fs::path d = temp_dir() / "nothing";
  fs::create_directories(d);
  EXPECT_FALSE(FrameSource::open(d.string()).ok());
}

}  // namespace
}  // namespace kv::media

namespace kv::media {
namespace {

TEST(FrameSource, PasswordsInUrisAreRedacted) {
  EXPECT_EQ(redact_uri("rtsp://admin:s3cret@10.0.0.5:554/stream1"),
            "rtsp://admin:***@10.0.0.5:554/stream1");
  EXPECT_EQ(redact_uri("rtsp://admin@10.0.0.5/s"), "rtsp://admin@10.0.0.5/s");
  EXPECT_EQ(redact_uri("rtsp://10.0.0.5/s?a=b@c"), "rtsp://10.0.0.5/s?a=b@c");
  EXPECT_EQ(redact_uri("http://u:p@h"), "http://u:***@h");
  EXPECT_EQ(redact_uri("/data/a:b@c.mp4"), "/data/a:b@c.mp4");
}

}  // namespace
}  // namespace kv::media
