#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/camera_config.h"

namespace kv::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

IngestParams base() {
  IngestParams p;
  p.fps = 2;
  p.jpeg_quality = 70;
  return p;
}

TEST(CameraConfig, ReadsCamerasOverDefaultsOverTheCommandLine) {
  auto cams = parse_cameras(R"(
defaults:
  fps: 5
cameras:
  - id: lobby
    source: rtsp://10.0.0.5/stream1
  - id: archive
    source: /data/video.mp4
    realtime: true
    fps: 0
    jpeg_quality: 90
    reconnect: 3
    timeout_ms: 2500
)",
                            "cams.yaml", base());
  ASSERT_TRUE(cams) << cams.error().message;
  ASSERT_EQ(cams->size(), 2u);
  const IngestParams& lobby = (*cams)[0];
  EXPECT_EQ(lobby.camera, "lobby");
  EXPECT_EQ(lobby.source, "rtsp://10.0.0.5/stream1");
  EXPECT_EQ(lobby.fps, 5);            // the file's defaults
  EXPECT_EQ(lobby.jpeg_quality, 70);  // the command line's
  EXPECT_FALSE(lobby.realtime);
  const IngestParams& archive = (*cams)[1];
  EXPECT_EQ(archive.fps, 0);
  EXPECT_TRUE(archive.realtime);
  EXPECT_EQ(archive.jpeg_quality, 90);
  EXPECT_EQ(archive.reconnect_attempts, 3);
  EXPECT_EQ(archive.io_timeout_ms, 2500);
}

TEST(CameraConfig, UnknownKeyIsNamedWithItsLine) {
  auto cams = parse_cameras("cameras:\n  - id: a\n    source: x.mp4\n  - id: b\n    sorce: y\n",
                            "cams.yaml", base());
  ASSERT_FALSE(cams);
  EXPECT_THAT(cams.error().message, HasSubstr("cams.yaml:5:"));
  EXPECT_THAT(cams.error().message, HasSubstr("unknown key 'sorce'"));
  EXPECT_THAT(cams.error().message, HasSubstr("known: id, source, fps"));
}

TEST(CameraConfig, BadValuesAreNamedWithTheirLine) {
  struct Case {
    const char* yaml;
    const char* line;
    const char* says;
  };
  const Case cases[] = {
      {"cameras:\n  - id: a\n    source: x\n    fps: fast\n", ":4:", "fps must be a number"},
      {"cameras:\n  - id: a\n    source: x\n    jpeg_quality: 101\n", ":4:", "1..100"},
      {"cameras:\n  - id: a\n    source: x\n    realtime: maybe\n", ":4:", "true or false"},
      {"cameras:\n  - id: a\n    source: [1, 2]\n", ":3:", "a list or mapping"},
      {"cameras:\n  - id: a\n", ":2:", "camera 'a' has no source"},
      {"cameras:\n  - source: x\n", ":2:", "camera #1 has no id"},
      {"cameras:\n  - {id: a, source: x}\n  - {id: a, source: y}\n", ":3:", "appears twice"},
      {"defaults:\n  id: a\ncameras: []\n", ":2:", "unknown key 'id' in defaults"},
      {"camera:\n  - {id: a, source: x}\n", ":1:", "unknown key 'camera'"},
      {"cameras:\n  - id: a\n   source: x\n", ":3:", "not valid YAML"},
  };
  for (const Case& c : cases) {
    auto cams = parse_cameras(c.yaml, "f.yaml", base());
    ASSERT_FALSE(cams) << c.yaml;
    EXPECT_THAT(cams.error().message, HasSubstr(std::string("f.yaml") + c.line)) << c.yaml;
    EXPECT_THAT(cams.error().message, HasSubstr(c.says)) << c.yaml;
    EXPECT_EQ(cams.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(CameraConfig, NoCamerasListIsAnError) {
  auto cams = parse_cameras("defaults: {fps: 1}\n", "f.yaml", base());
  ASSERT_FALSE(cams);
  EXPECT_THAT(cams.error().message, HasSubstr("'cameras' must be a list"));
}

TEST(CameraConfig, MissingFileIsNotFound) {
  auto cams = load_cameras("/nonexistent/cams.yaml", base());
  ASSERT_FALSE(cams);
  EXPECT_EQ(cams.error().code, ErrorCode::kNotFound);
}

TEST(CameraConfig, DiffLeavesUnchangedCamerasAlone) {
  auto before = parse_cameras(
      "cameras:\n  - {id: a, source: x}\n  - {id: b, source: y}\n  - {id: c, source: z}\n", "f",
      base());
  auto after = parse_cameras(
      "cameras:\n  - {id: a, source: x}\n  - {id: c, source: z, fps: 9}\n  - {id: d, source: w}\n",
      "f", base());
  ASSERT_TRUE(before && after);
  const CameraChanges c = diff_cameras(*before, *after);
  EXPECT_THAT(c.added, ElementsAre("d"));
  EXPECT_THAT(c.removed, ElementsAre("b"));
  EXPECT_THAT(c.changed, ElementsAre("c"));
  EXPECT_THAT(c.unchanged, ElementsAre("a"));
  EXPECT_TRUE(same_camera_settings((*before)[0], (*after)[0]));
  EXPECT_FALSE(same_camera_settings((*before)[2], (*after)[1]));
}

}  // namespace
}  // namespace kv::pipeline
