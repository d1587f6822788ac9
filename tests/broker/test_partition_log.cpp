#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "batch_builder.h"
#include "broker/partition_log.h"
#include "broker/record_batch.h"

namespace kv::broker {
namespace {
namespace fs = std::filesystem;
using testing::make_batch;

class PartitionLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kv_log_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<PartitionLog> open(LogConfig config = {}) {
    auto log = PartitionLog::open(dir_, config);
    EXPECT_TRUE(log.ok()) << log.error().message;
    return log.ok() ? std::move(*log) : nullptr;
  }
  int64_t append(PartitionLog& log, int records, int64_t ts_ms = 1000, size_t value_bytes = 16) {
    auto b = make_batch(records, ts_ms, value_bytes);
    auto base = log.append(b);
    EXPECT_TRUE(base.ok()) << base.error().message;
    return base.ok() ? *base : -1;
  }
  std::vector<fs::path> segment_files() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".log") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(PartitionLogTest, AssignsOffsetsAndReadsWholeBatches) {
  auto log = open();
  EXPECT_EQ(append(*log, 3), 0);
  EXPECT_EQ(append(*log, 2), 3);
  EXPECT_EQ(append(*log, 4), 5);
  EXPECT_EQ(log->log_start_offset(), 0);
  EXPECT_EQ(log->log_end_offset(), 9);

  auto r = log->read(4, 1);  // inside the second batch; max_bytes smaller than a batch
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto h = parse_batch_header(*r);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->base_offset, 3);
  EXPECT_EQ(h->record_count, 2);
  EXPECT_EQ(h->total_bytes(), r->size()) << "exactly one whole batch";
  EXPECT_TRUE(batch_crc_ok(*r));

  auto all = log->read(0, 1 << 20);
  ASSERT_TRUE(all.ok());
  EXPECT_GT(all->size(), 3 * kBatchHeaderBytes);
  EXPECT_TRUE(log->read(9, 100)->empty()) << "the log end reads as empty";
  auto past = log->read(10, 100);
  ASSERT_FALSE(past.ok());
  EXPECT_TRUE(is_out_of_range(past.error()));
}

TEST_F(PartitionLogTest, RejectsBadBatches) {
  auto log = open();
  auto b = make_batch(2, 0);
  b[40] ^= 0xFF;  // inside the CRC's range
  EXPECT_FALSE(log->append(b).ok());
  auto short_batch = make_batch(2, 0);
  short_batch.pop_back();
  EXPECT_FALSE(log->append(short_batch).ok());
  EXPECT_EQ(log->log_end_offset(), 0) << "nothing was stored";
}

TEST_F(PartitionLogTest, SurvivesReopen) {
  std::vector<uint8_t> before;
  {
    auto log = open();
    append(*log, 3);
    append(*log, 7);
    before = *log->read(0, 1 << 20);
  }
  auto log = open();
  EXPECT_EQ(log->log_end_offset(), 10);
  EXPECT_EQ(log->recovered_truncated_bytes(), 0);
  EXPECT_EQ(*log->read(0, 1 << 20), before);
  EXPECT_EQ(append(*log, 1), 10);
}

TEST_F(PartitionLogTest, TornWriteIsCutAtOpen) {
  {
    auto log = open();
    append(*log, 3);
    append(*log, 3);
  }
  // A crash in the middle of the next write leaves half a batch at the end of the file.
  const auto half = make_batch(5, 0, 400);
  {
    std::ofstream f(segment_files().back(), std::ios::binary | std::ios::app);
    f.write(reinterpret_cast<const char*>(half.data()),
            static_cast<std::streamsize>(half.size() / 2));
  }
  auto log = open();
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(log->recovered_truncated_bytes(), static_cast<int64_t>(half.size() / 2));
  EXPECT_EQ(append(*log, 2), 6) << "appends continue right after the last good batch";
  EXPECT_EQ(log->log_end_offset(), 8);
}

TEST_F(PartitionLogTest, CorruptTailBatchIsCutAtOpen) {
  int64_t size_after_first = 0;
  {
    auto log = open();
    append(*log, 3);
    size_after_first = log->size_bytes();
    append(*log, 3);
  }
  {
    const int fd = ::open(segment_files().back().c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const uint8_t junk = 0x5A;
    ASSERT_EQ(::pwrite(fd, &junk, 1, size_after_first + 70), 1);  // a record byte of batch 2
    ::close(fd);
  }
  auto log = open();
  EXPECT_EQ(log->log_end_offset(), 3);
  EXPECT_EQ(log->size_bytes(), size_after_first);
}

TEST_F(PartitionLogTest, RollsSegmentsAndKeepsOffsetsAcrossThem) {
  LogConfig config;
  config.segment_bytes = 1000;
  auto log = open(config);
  for (int i = 0; i < 20; ++i) append(*log, 2, 1000, 100);
  EXPECT_GT(segment_files().size(), 3u);
  EXPECT_EQ(log->log_end_offset(), 40);
  for (int64_t o = 0; o < 40; o += 7) {
    auto r = log->read(o, 1);
    ASSERT_TRUE(r.ok());
    auto h = parse_batch_header(*r);
    ASSERT_TRUE(h.ok());
    EXPECT_LE(h->base_offset, o);
    EXPECT_GE(h->last_offset(), o);
  }
  log.reset();
  log = open(config);
  EXPECT_EQ(log->log_end_offset(), 40);
}

TEST_F(PartitionLogTest, RetentionBySizeDeletesOldestSegments) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_bytes = 2500;
  auto log = open(config);
  for (int i = 0; i < 30; ++i) append(*log, 2, 1000, 100);
  const size_t segments = segment_files().size();
  const int deleted = log->enforce_retention(2000);
  EXPECT_GT(deleted, 0);
  EXPECT_EQ(segment_files().size(), segments - static_cast<size_t>(deleted));
  EXPECT_GE(log->size_bytes(), 2500 - 1000);
  EXPECT_LE(log->size_bytes(), 2500 + 1000);
  const int64_t start = log->log_start_offset();
  EXPECT_GT(start, 0);
  auto gone = log->read(0, 100);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(is_out_of_range(gone.error()))
      << "a consumer before the log start gets OFFSET_OUT_OF_RANGE";
  EXPECT_TRUE(log->read(start, 100).ok());
  log.reset();
  EXPECT_EQ(open(config)->log_start_offset(), start) << "the new log start survives a restart";
}

TEST_F(PartitionLogTest, RetentionByTimeDeletesOnlyOldSegments) {
  LogConfig config;
  config.segment_bytes = 600;
  config.retention_ms = 60'000;
  auto log = open(config);
  for (int i = 0; i < 6; ++i) append(*log, 2, 1'000, 100);      // old
  for (int i = 0; i < 6; ++i) append(*log, 2, 1'000'000, 100);  // recent
  const int64_t now_ms = 1'000'000 + 30'000;
  EXPECT_GT(log->enforce_retention(now_ms), 0);
  auto first = log->read(log->log_start_offset(), 1);
  ASSERT_TRUE(first.ok());
  EXPECT_GE(parse_batch_header(*first)->base_timestamp, 1'000'000)
      << "every old segment went, no recent one";
  EXPECT_EQ(log->log_end_offset(), 24);
}

}  // namespace
}  // namespace kv::broker

namespace kv::broker {
namespace {

TEST_F(PartitionLogTest, IdempotentRetriesAreStoredOnce) {
  auto log = open();
  auto b0 = make_batch(3, 1000, 16, /*pid=*/77, /*epoch=*/0, /*seq=*/0);
  auto b1 = make_batch(2, 1000, 16, 77, 0, 3);
  ASSERT_EQ(*log->append(b0), 0);
  ASSERT_EQ(*log->append(b1), 3);
  auto retry = make_batch(3, 1000, 16, 77, 0, 0);  // the broker acked, the client did not hear
  auto again = log->append(retry);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, 0) << "a retry gets its original offset";
  EXPECT_EQ(log->log_end_offset(), 5) << "and is not stored twice";

  auto gap = make_batch(1, 1000, 16, 77, 0, 9);
  auto r = log->append(gap);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("OUT_OF_ORDER_SEQUENCE_NUMBER", 0), 0u);

  auto other = make_batch(1, 1000, 16, 78, 0, 0);  // another producer is independent
  EXPECT_EQ(*log->append(other), 5);

  log.reset();
  log = open();  // the producer state is rebuilt from the log
  auto retry_after_restart = make_batch(2, 1000, 16, 77, 0, 3);
  EXPECT_EQ(*log->append(retry_after_restart), 3);
  EXPECT_EQ(log->log_end_offset(), 6);
  auto next = make_batch(1, 1000, 16, 77, 0, 5);
  EXPECT_EQ(*log->append(next), 6);
}

TEST_F(PartitionLogTest, OlderProducerEpochIsFenced) {
  auto log = open();
  auto current = make_batch(1, 0, 16, 5, 2, 0);
  ASSERT_TRUE(log->append(current).ok());
  auto stale = make_batch(1, 0, 16, 5, 1, 1);
  auto r = log->append(stale);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("INVALID_PRODUCER_EPOCH", 0), 0u);
}

}  // namespace
}  // namespace kv::broker
