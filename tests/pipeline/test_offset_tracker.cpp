#include <gtest/gtest.h>

#include <thread>

#include "pipeline/offset_tracker.h"
#include "pipeline/partitions.h"

namespace kv::pipeline {
namespace {

TEST(OffsetTracker, CommitsOnlyBelowTheOldestUnfinished) {
  OffsetTracker t;
  for (int64_t o = 10; o < 14; ++o) ASSERT_TRUE(t.begin(kP0, o));
  EXPECT_EQ(t.complete(kP0, 12), std::nullopt) << "10 is still running";
  EXPECT_EQ(t.complete(kP0, 11), std::nullopt);
  EXPECT_EQ(t.complete(kP0, 10), 13) << "10..12 done, 13 running";
  EXPECT_EQ(t.complete(kP0, 13), 14);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, PartitionsAreIndependent) {
  OffsetTracker t;
  ASSERT_TRUE(t.begin(kP0, 5));
  ASSERT_TRUE(t.begin(kP1, 100));
  EXPECT_EQ(t.complete(kP1, 100), 101);
  EXPECT_EQ(t.in_flight(), 1u);
  EXPECT_EQ(t.complete(kP0, 5), 6);
}

TEST(OffsetTracker, RedeliveryOfRunningWorkIsRefused) {
  OffsetTracker t;
  ASSERT_TRUE(t.begin(kP0, 1));
  EXPECT_FALSE(t.begin(kP0, 1));
  EXPECT_EQ(t.in_flight(), 1u);
}

TEST(OffsetTracker, WaitIdleWakesWhenTheLastCompletes) {
  OffsetTracker t;
  ASSERT_TRUE(t.begin(kP0, 1));
  EXPECT_FALSE(t.wait_idle(10));
  std::thread worker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    t.complete(kP0, 1);
  });
  EXPECT_TRUE(t.wait_idle(5000));
  worker.join();
}

// Records taken but never started (the newest) are given up: nothing from them on is
// committed, even when older ones finish later.
TEST(OffsetTracker, AbandonedRecordsAreNeverCommittedPast) {
  OffsetTracker t;
  for (int64_t o = 10; o < 15; ++o) ASSERT_TRUE(t.begin(kP0, o));
  t.abandon(kP0, 12);
  EXPECT_EQ(t.in_flight(), 2u);
  EXPECT_EQ(t.complete(kP0, 10), 11);
  EXPECT_EQ(t.complete(kP0, 11), 12);  // not 15
  EXPECT_TRUE(t.wait_idle(0));
  EXPECT_EQ(t.committable().at(kP0), 12);
  ASSERT_TRUE(t.begin(kP0, 12));  // read again later
}

TEST(OffsetTracker, ForgetAndResetDropPartitions) {
  OffsetTracker t;
  ASSERT_TRUE(t.begin(kP0, 1));
  ASSERT_TRUE(t.begin(kP1, 1));
  t.forget({kP0});
  EXPECT_EQ(t.in_flight(), 1u);
  EXPECT_EQ(t.committable().count(kP0), 0u);
  t.reset();
  EXPECT_EQ(t.in_flight(), 0u);
  EXPECT_TRUE(t.committable().empty());
}

}  // namespace
}  // namespace kv::pipeline
