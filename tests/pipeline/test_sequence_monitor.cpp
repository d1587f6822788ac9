#include <gtest/gtest.h>

#include "pipeline/partitions.h"
#include "pipeline/sequence_monitor.h"

namespace kv::pipeline {
namespace {

using Event = SequenceMonitor::Event;

TEST(SequenceMonitor, InOrderFramesAreQuiet) {
  SequenceMonitor m;
  EXPECT_EQ(m.observe(kP0, "cam", 100, 0).event, Event::kFirst);
  for (int seq = 1; seq < 50; ++seq)
    EXPECT_EQ(m.observe(kP0, "cam", 100, seq).event, Event::kInOrder);
  const SequenceCounts c = m.counts().at("cam");
  EXPECT_EQ(c.frames, 50);
  EXPECT_EQ(c.missing, 0);
  EXPECT_EQ(c.duplicates, 0);
  EXPECT_EQ(c.sessions, 1);
  EXPECT_TRUE(describe(m.observe(kP0, "cam", 100, 50), "t", "cam", 50).empty());
}

TEST(SequenceMonitor, CountsGapsAndLateArrivals) {
  SequenceMonitor m;
  m.observe(kP0, "cam", 1, 0);
  m.observe(kP0, "cam", 1, 1);
  const auto gap = m.observe(kP0, "cam", 1, 4);
  EXPECT_EQ(gap.event, Event::kGap);
  EXPECT_EQ(gap.frames, 2);
  EXPECT_EQ(gap.expected, 2);
  EXPECT_EQ(describe(gap, "sink", "cam", 4),
            "sink: camera 'cam' skipped 2 frame(s): expected seq 2, got 4");
  EXPECT_EQ(m.counts().at("cam").missing, 2);
  EXPECT_EQ(m.observe(kP0, "cam", 1, 3).event, Event::kLate);
  EXPECT_EQ(m.counts().at("cam").missing, 1);
  EXPECT_EQ(m.observe(kP0, "cam", 1, 5).event, Event::kInOrder);
}

TEST(SequenceMonitor, CountsDuplicates) {
  SequenceMonitor m;
  m.observe(kP0, "cam", 1, 0);
  m.observe(kP0, "cam", 1, 1);
  EXPECT_EQ(m.observe(kP0, "cam", 1, 1).event, Event::kDuplicate);
  EXPECT_EQ(m.observe(kP0, "cam", 1, 0).event, Event::kDuplicate);
  EXPECT_EQ(m.counts().at("cam").duplicates, 2);
  EXPECT_EQ(m.counts().at("cam").missing, 0);
}

TEST(SequenceMonitor, ARestartedCameraIsANewSessionNotAGap) {
  SequenceMonitor m;
  for (int seq = 0; seq < 10; ++seq) m.observe(kP0, "cam", 1000, seq);
  EXPECT_EQ(m.observe(kP0, "cam", 2000, 0).event, Event::kNewSession);
  EXPECT_EQ(m.observe(kP0, "cam", 2000, 1).event, Event::kInOrder);
  EXPECT_EQ(m.observe(kP0, "cam", 1000, 10).event, Event::kDuplicate);  // the old session, late
  const SequenceCounts c = m.counts().at("cam");
  EXPECT_EQ(c.sessions, 2);
  EXPECT_EQ(c.missing, 0);
}

TEST(SequenceMonitor, CamerasAndPartitionsAreSeparateAndForgettable) {
  SequenceMonitor m;
  m.observe(kP0, "a", 1, 0);
  m.observe(kP1, "b", 1, 0);
  EXPECT_EQ(m.observe(kP1, "b", 1, 1).event, Event::kInOrder);
  EXPECT_EQ(m.observe(kP0, "a", 1, 1).event, Event::kInOrder);
  // Partition 0 goes to another member for a while: its frames 2..99 are not seen here.
  m.forget({kP0});
  EXPECT_EQ(m.observe(kP0, "a", 1, 100).event, Event::kFirst);
  EXPECT_EQ(m.total().missing, 0);
  EXPECT_EQ(m.total().frames, 5);
}

TEST(SequenceMonitor, AGapThePublisherAccountedForIsNotMissing) {
  // The detector skipped frames 2 and 3 (stale) and says so on frame 4: skipped, not missing.
  SequenceMonitor m;
  m.observe(kP0, "cam", 1, 0);
  m.observe(kP0, "cam", 1, 1);
  const auto o = m.observe(kP0, "cam", 1, 4, /*accounted=*/2);
  EXPECT_EQ(o.event, Event::kSkipped);
  EXPECT_EQ(o.frames, 2);
  EXPECT_TRUE(describe(o, "sink", "cam", 4).empty());
  EXPECT_EQ(m.counts().at("cam").missing, 0);
  EXPECT_EQ(m.counts().at("cam").skipped, 2);
  EXPECT_EQ(m.observe(kP0, "cam", 1, 5).event, Event::kInOrder);
  // A gap larger than what was accounted for: the rest is missing.
  const auto gap = m.observe(kP0, "cam", 1, 10, /*accounted=*/1);
  EXPECT_EQ(gap.event, Event::kGap);
  EXPECT_EQ(gap.frames, 3);
  EXPECT_EQ(m.counts().at("cam").missing, 3);
  EXPECT_EQ(m.total().skipped, 3);
}

}  // namespace
}  // namespace kv::pipeline
