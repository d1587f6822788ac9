// AuditTally: missing, duplicated and dead-lettered frames per camera.
#include <gtest/gtest.h>

#include "pipeline/audit.h"

namespace kv::pipeline {
namespace {

TEST(Audit, CountsMissingDuplicatesAndDeadLetters) {
  AuditTally t;
  for (int64_t seq = 0; seq < 5; ++seq) t.add_input("in", 0, seq, FrameKey{"a", 1, seq});
  t.add_input("in", 1, 0, FrameKey{"b", 7, 0});
  t.add_input("in", 1, 1, std::nullopt);  // unreadable headers
  t.add_output({"a", 1, 0});
  t.add_output({"a", 1, 1});
  t.add_output({"a", 1, 1});  // delivered twice
  t.add_output({"a", 1, 3});
  t.add_dead_letter("in", 0, 2);  // a:2 could not be processed
  t.add_dead_letter("in", 1, 1);
  t.add_output({"z", 1, 0});  // no such input
  const auto r = t.report();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].camera, "?");
  EXPECT_EQ(r[0].in, 1);
  EXPECT_EQ(r[0].dead_lettered, 1);
  EXPECT_EQ(r[0].missing, 0);
  EXPECT_EQ(r[1].camera, "a");
  EXPECT_EQ(r[1].in, 5);
  EXPECT_EQ(r[1].out, 4);
  EXPECT_EQ(r[1].duplicates, 1);
  EXPECT_EQ(r[1].dead_lettered, 1);
  EXPECT_EQ(r[1].missing, 1);  // a:4
  EXPECT_EQ(r[2].camera, "b");
  EXPECT_EQ(r[2].missing, 1);
  EXPECT_EQ(t.unmatched_outputs(), 1);
}

TEST(Audit, ARestartedCameraIsANewSessionNotAGap) {
  AuditTally t;
  t.add_input("in", 0, 0, FrameKey{"a", 1, 0});
  t.add_input("in", 0, 1, FrameKey{"a", 2, 0});  // seq restarts in a new session
  t.add_output({"a", 1, 0});
  t.add_output({"a", 2, 0});
  const auto r = t.report();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].in, 2);
  EXPECT_EQ(r[0].missing, 0);
  EXPECT_EQ(r[0].duplicates, 0);
}

TEST(Audit, AFrameStoredTwiceInTheInputCountsOnce) {
  AuditTally t;
  t.add_input("in", 0, 0, FrameKey{"a", 1, 0});
  t.add_input("in", 0, 1, FrameKey{"a", 1, 0});
  t.add_output({"a", 1, 0});
  const auto r = t.report();
  EXPECT_EQ(r[0].in, 1);
  EXPECT_EQ(r[0].duplicates, 0);
}

TEST(Audit, SkippedFramesAreToldFromMissingOnes) {
  AuditTally t;
  for (int64_t seq = 0; seq < 6; ++seq) t.add_input("in", 0, seq, FrameKey{"a", 1, seq});
  t.add_output({"a", 1, 0});
  t.add_output({"a", 1, 3});
  t.add_output({"a", 1, 5});
  t.add_skipped("in", 0, 1);
  t.add_skipped("in", 0, 2);
  t.add_skipped("in", 0, 5);  // skipped once, processed after all: out, not skipped
  t.add_dead_letter("in", 0, 4);
  const auto r = t.report();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].in, 6);
  EXPECT_EQ(r[0].out, 3);
  EXPECT_EQ(r[0].skipped, 2);
  EXPECT_EQ(r[0].dead_lettered, 1);
  EXPECT_EQ(r[0].missing, 0);
  EXPECT_EQ(r[0].out + r[0].skipped + r[0].dead_lettered, r[0].in);
}

}  // namespace
}  // namespace kv::pipeline
