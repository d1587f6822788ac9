// OrderedRelease: records finished out of order leave in the order they were taken.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "pipeline/ordered_release.h"
#include "pipeline/partitions.h"

namespace kv::pipeline {
namespace {

// A release that appends the record's offset to `out` (the lock inside serialises releases).
OrderedRelease::Release record(std::vector<int64_t>& out, int64_t offset) {
  return [&out, offset](int64_t) { out.push_back(offset); };
}

TEST(OrderedRelease, AFinishedRecordWaitsForItsPredecessors) {
  OrderedRelease r;
  std::vector<int64_t> out;
  for (int64_t o = 10; o < 14; ++o) r.enter(kP0, o);
  EXPECT_TRUE(r.finish(kP0, 12, 0, record(out, 12)));
  EXPECT_TRUE(r.finish(kP0, 11, 0, record(out, 11)));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.waiting(), 2u);
  EXPECT_TRUE(r.finish(kP0, 10, 0, record(out, 10)));  // the head: it and both behind it leave
  EXPECT_EQ(out, (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(r.waiting(), 0u);
  EXPECT_EQ(r.slots(), 1u);
  EXPECT_TRUE(r.finish(kP0, 13, 0, record(out, 13)));
  EXPECT_EQ(out.back(), 13);
  EXPECT_EQ(r.slots(), 0u);
}

TEST(OrderedRelease, PartitionsDoNotWaitForEachOther) {
  OrderedRelease r;
  std::vector<int64_t> out;
  r.enter(kP0, 0);
  r.enter(kP1, 0);
  r.enter(kP1, 1);
  EXPECT_TRUE(r.finish(kP1, 0, 0, record(out, 100)));
  EXPECT_TRUE(r.finish(kP1, 1, 0, record(out, 101)));
  EXPECT_EQ(out, (std::vector<int64_t>{100, 101}));  // partition 0's unfinished head is no obstacle
}

TEST(OrderedRelease, GapsInOffsetsAreNotWaitedFor) {
  // Offsets are not contiguous (transaction markers, compaction): only entered ones count.
  OrderedRelease r;
  std::vector<int64_t> out;
  r.enter(kP0, 3);
  r.enter(kP0, 7);
  EXPECT_TRUE(r.finish(kP0, 7, 0, record(out, 7)));
  EXPECT_TRUE(r.finish(kP0, 3, 0, record(out, 3)));
  EXPECT_EQ(out, (std::vector<int64_t>{3, 7}));
}

TEST(OrderedRelease, AbandonedRecordsReleaseTheirSuccessors) {
  // Records handed back to Kafka (taken, never started) are the newest; what waits on the
  // records before them is unaffected, and nothing waits on them.
  OrderedRelease r;
  std::vector<int64_t> out;
  for (int64_t o = 0; o < 5; ++o) r.enter(kP0, o);
  EXPECT_TRUE(r.finish(kP0, 1, 0, record(out, 1)));
  r.abandon(kP0, 3);
  EXPECT_FALSE(r.finish(kP0, 3, 0, record(out, 3)));
  EXPECT_TRUE(r.finish(kP0, 2, 0, record(out, 2)));
  EXPECT_TRUE(r.finish(kP0, 0, 0, record(out, 0)));
  EXPECT_EQ(out, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(r.slots(), 0u);
}

TEST(OrderedRelease, WorkFromBeforeAResetIsDropped) {
  OrderedRelease r;
  std::vector<int64_t> out;
  r.enter(kP0, 0, /*epoch=*/1);
  r.enter(kP0, 1, 1);
  r.reset();  // exactly-once: the transaction aborted; the records are read again
  r.enter(kP0, 0, 2);
  EXPECT_FALSE(r.finish(kP0, 0, 1, record(out, -1)));  // the voided attempt
  EXPECT_FALSE(r.finish(kP0, 1, 1, record(out, -1)));  // no longer entered at all
  EXPECT_TRUE(r.finish(kP0, 0, 2, record(out, 0)));
  EXPECT_EQ(out, (std::vector<int64_t>{0}));
}

TEST(OrderedRelease, ForgottenPartitionsReleaseNothing) {
  OrderedRelease r;
  std::vector<int64_t> out;
  r.enter(kP0, 0);
  r.enter(kP0, 1);
  EXPECT_TRUE(r.finish(kP0, 1, 0, record(out, 1)));
  r.forget({kP0});
  EXPECT_EQ(r.waiting(), 0u);
  EXPECT_FALSE(r.finish(kP0, 0, 0, record(out, 0)));
  EXPECT_TRUE(out.empty());
  r.enter(kP0, 0);  // assigned again, from an earlier offset: allowed after forget
  EXPECT_TRUE(r.finish(kP0, 0, 0, record(out, 0)));
  EXPECT_EQ(out, (std::vector<int64_t>{0}));
}

TEST(OrderedRelease, AFinishCountsOnce) {
  OrderedRelease r;
  std::vector<int64_t> out;
  r.enter(kP0, 0);
  r.enter(kP0, 1);
  EXPECT_TRUE(r.finish(kP0, 1, 0, record(out, 1)));
  EXPECT_FALSE(r.finish(kP0, 1, 0, record(out, 1)));
  EXPECT_TRUE(r.finish(kP0, 0, 0, record(out, 0)));
  EXPECT_EQ(out, (std::vector<int64_t>{0, 1}));
}

TEST(OrderedRelease, ManyWorkersFinishingAtRandomReleaseInOrder) {
  constexpr int kWorkers = 4;
  constexpr int64_t kRecords = 4000;
  OrderedRelease r;
  for (int64_t o = 0; o < kRecords; ++o) r.enter(o % 2 == 0 ? kP0 : kP1, o);
  std::vector<int64_t> out0;
  std::vector<int64_t> out1;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      std::minstd_rand rng(static_cast<unsigned>(w));
      std::vector<int64_t> mine;
      for (int64_t o = w; o < kRecords; o += kWorkers) mine.push_back(o);
      std::shuffle(mine.begin(), mine.end(), rng);  // finish in any order
      for (int64_t o : mine) {
        auto& out = o % 2 == 0 ? out0 : out1;
        ASSERT_TRUE(r.finish(o % 2 == 0 ? kP0 : kP1, o, 0, record(out, o)));
      }
    });
  }
  for (std::thread& t : workers) t.join();
  ASSERT_EQ(out0.size() + out1.size(), static_cast<size_t>(kRecords));
  EXPECT_TRUE(std::is_sorted(out0.begin(), out0.end()));
  EXPECT_TRUE(std::is_sorted(out1.begin(), out1.end()));
  EXPECT_EQ(r.slots(), 0u);
}

}  // namespace
}  // namespace kv::pipeline
