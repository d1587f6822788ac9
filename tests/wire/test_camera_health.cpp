#include <gtest/gtest.h>

#include "wire/camera_health.h"

namespace kv::wire {
namespace {

TEST(CameraHealth, RoundTrips) {
  CameraHealth h;
  h.camera = "lobby";
  h.state = CameraState::kReconnecting;
  h.source = "rtsp://u:***@cam/1";
  h.reason = "dropped after 120 frames";
  h.since_us = 1700000000000000;
  h.last_frame_us = 1700000000500000;
  h.frames = 120;
  h.reconnects = 2;
  h.updated_us = 1700000001000000;
  h.host = "box:42";
  auto back = decode_camera_health(encode_camera_health(h));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->camera, "lobby");
  EXPECT_EQ(back->state, CameraState::kReconnecting);
  EXPECT_EQ(back->source, h.source);
  EXPECT_EQ(back->reason, h.reason);
  EXPECT_EQ(back->since_us, h.since_us);
  EXPECT_EQ(back->last_frame_us, h.last_frame_us);
  EXPECT_EQ(back->frames, 120);
  EXPECT_EQ(back->reconnects, 2);
  EXPECT_EQ(back->updated_us, h.updated_us);
  EXPECT_EQ(back->host, "box:42");
}

TEST(CameraHealth, StatesByName) {
  for (CameraState s : {CameraState::kUp, CameraState::kReconnecting, CameraState::kDown,
                        CameraState::kFinished, CameraState::kRemoved}) {
    auto back = parse_camera_state(camera_state_name(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(parse_camera_state("SLEEPING"));
}

TEST(CameraHealth, BadRecordsAreErrors) {
  EXPECT_FALSE(decode_camera_health("not json"));
  EXPECT_FALSE(decode_camera_health(R"({"state": "UP"})"));
  EXPECT_FALSE(decode_camera_health(R"({"camera": "a", "state": "WEIRD"})"));
  EXPECT_FALSE(decode_camera_health(R"({"camera": "", "state": "UP"})"));
}

}  // namespace
}  // namespace kv::wire
