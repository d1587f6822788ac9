// Log compaction (cleanup.policy=compact): the newest record of each key survives, offsets never
// change, reads step over the gaps, and transactions, producers and restarts are respected.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "batch_builder.h"
#include "broker/partition_log.h"
#include "broker/record_batch.h"

namespace kv::broker {
namespace {
namespace fs = std::filesystem;
using testing::make_keyed_batch;
using testing::TestRecord;

struct Stored {
  int64_t offset;
  std::optional<std::string> key;
  std::optional<std::string> value;
  bool operator==(const Stored&) const = default;
};

std::optional<std::string> text(const std::optional<std::span<const uint8_t>>& b) {
  if (!b) return std::nullopt;
  return std::string(b->begin(), b->end());
}

class CompactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kv_compact_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static LogConfig compacted() {
    LogConfig c;
    c.segment_bytes = 1024;  // a few records per segment
    c.compact = true;
    c.delete_old = false;
    c.flush_interval_ms = 60000;
    return c;
  }
  std::unique_ptr<PartitionLog> open(LogConfig config = compacted()) {
    auto log = PartitionLog::open(dir_, config);
    EXPECT_TRUE(log.ok()) << log.error().message;
    return log.ok() ? std::move(*log) : nullptr;
  }
  // Every data record from `from` on, as a consumer would see it (control batches skipped).
  static std::vector<Stored> read_all(const PartitionLog& log, int64_t from = 0) {
    std::vector<Stored> out;
    int64_t offset = std::max(from, log.log_start_offset());
    while (offset < log.log_end_offset()) {
      auto bytes = log.read(offset, 1 << 20);
      EXPECT_TRUE(bytes.ok()) << bytes.error().message;
      if (!bytes.ok() || bytes->empty()) break;
      size_t pos = 0;
      while (pos < bytes->size()) {
        const std::span<const uint8_t> rest(bytes->data() + pos, bytes->size() - pos);
        auto h = parse_batch_header(rest);
        EXPECT_TRUE(h.ok());
        if (!h.ok()) return out;
        EXPECT_TRUE(batch_crc_ok(rest.subspan(0, h->total_bytes())));
        if (!h->is_control()) {
          auto records = batch_records(rest.subspan(0, h->total_bytes()));
          EXPECT_TRUE(records.ok()) << records.error().message;
          for (const RecordView& r : *records) {
            const int64_t o = h->base_offset + r.offset_delta;
            if (o >= offset) out.push_back({o, text(r.key), text(r.value)});
          }
        }
        offset = std::max(offset, h->last_offset() + 1);
        pos += h->total_bytes();
      }
    }
    return out;
  }
  // The base offset of the active segment (the newest segment file's name).
  int64_t active_base() const {
    int64_t base = -1;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".log")
        base = std::max<int64_t>(base, std::stoll(e.path().stem()));
    }
    return base;
  }
  // Appends one record per batch: key k<i % keys>, value v<i>.
  static std::vector<Stored> write_keys(PartitionLog& log, int n, int keys, int first = 0) {
    std::vector<Stored> written;
    for (int i = first; i < first + n; ++i) {
      const std::string key = "k" + std::to_string(i % keys);
      const std::string value = "v" + std::to_string(i) + std::string(100, '.');
      auto b = make_keyed_batch({{key, value}}, 1000 + i);
      auto base = log.append(b);
      EXPECT_TRUE(base.ok());
      written.push_back({*base, key, value});
    }
    return written;
  }
  // What compaction must leave: below the active segment, the newest record of each key;
  // from it on, everything.
  static std::vector<Stored> expected_after(const std::vector<Stored>& written, int64_t active) {
    std::map<std::string, int64_t> newest;
    for (const Stored& s : written) {
      if (s.offset < active && s.key) newest[*s.key] = s.offset;
    }
    std::vector<Stored> out;
    for (const Stored& s : written) {
      if (s.offset >= active || !s.key || newest[*s.key] == s.offset) out.push_back(s);
    }
    return out;
  }

  fs::path dir_;
};

TEST_F(CompactionTest, KeepsTheNewestRecordOfEachKeyAtItsOffset) {
  auto log = open();
  const auto written = write_keys(*log, 60, 4);
  const int64_t active = active_base();
  ASSERT_GT(active, 20) << "the test needs several rolled segments";
  const size_t files_before = std::distance(fs::directory_iterator(dir_), fs::directory_iterator());

  auto stats = log->compact();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  const auto expected = expected_after(written, active);
  EXPECT_EQ(stats->records_removed, static_cast<int64_t>(written.size() - expected.size()));
  EXPECT_LT(stats->bytes_after, stats->bytes_before);
  EXPECT_EQ(read_all(*log), expected);
  EXPECT_EQ(log->log_start_offset(), 0);
  EXPECT_EQ(log->log_end_offset(), 60);
  // Emptied segments are gone (all but the first).
  EXPECT_LT(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), files_before);

  // Nothing rolled since: a second pass has nothing to do.
  auto again = log->compact();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->segments_rewritten, 0);
}

TEST_F(CompactionTest, AFetchInAGapGetsTheNextRecord) {
  auto log = open();
  const auto written = write_keys(*log, 40, 2);
  const int64_t active = active_base();
  ASSERT_TRUE(log->compact().ok());
  const auto expected = expected_after(written, active);
  // From every offset, the first record returned is the first kept one at or after it.
  for (int64_t from = 0; from < 40; ++from) {
    auto got = read_all(*log, from);
    auto want = std::find_if(expected.begin(), expected.end(),
                             [&](const Stored& s) { return s.offset >= from; });
    ASSERT_FALSE(got.empty()) << from;
    EXPECT_EQ(got.front(), *want) << "reading from " << from;
  }
}

TEST_F(CompactionTest, CompactedLogSurvivesReopenAndTakesAppends) {
  std::vector<Stored> expected;
  {
    auto log = open();
    const auto written = write_keys(*log, 50, 3);
    const int64_t active = active_base();
    ASSERT_TRUE(log->compact().ok());
    expected = expected_after(written, active);
  }
  fs::path leftover = dir_ / "00000000000000000000.log.cleaned";  // a pass cut short
  std::ofstream(leftover) << "half-written";
  auto log = open();
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_EQ(read_all(*log), expected);
  EXPECT_EQ(log->log_end_offset(), 50);
  const auto more = write_keys(*log, 1, 3, 50);
  EXPECT_EQ(more.front().offset, 50);
  expected.push_back(more.front());
  EXPECT_EQ(read_all(*log), expected);
}

TEST_F(CompactionTest, AbortedTransactionsGoAndOpenOnesHoldCompactionBack) {
  auto log = open();
  const auto append = [&](std::vector<uint8_t> b) { return log->append(b); };
  // A committed transaction writes k=committed, an aborted one k=aborted-v; both are old.
  ASSERT_TRUE(append(make_keyed_batch({{"k", "committed"}}, 1000, 7, 0, 0, true)).ok());
  ASSERT_TRUE(log->append_marker(7, 0, true).ok());
  ASSERT_TRUE(append(make_keyed_batch({{"k", "aborted"}}, 1000, 7, 0, 1, true)).ok());
  ASSERT_TRUE(log->append_marker(7, 0, false).ok());
  // The producer goes on, so the aborted batch leaves its window of latest batches (those stay
  // whole for the duplicate check).
  for (int seq = 2; seq < 7; ++seq) {
    ASSERT_TRUE(append(make_keyed_batch({{"later", "x"}}, 1000, 7, 0, seq, true)).ok());
    ASSERT_TRUE(log->append_marker(7, 0, true).ok());
  }
  // Another producer's open transaction starts here: nothing from it on may be compacted.
  const int64_t open_at = *append(make_keyed_batch({{"x", "open"}}, 1000, 8, 0, 0, true));
  write_keys(*log, 30, 1, 0);  // k0 over and over, past the open transaction
  ASSERT_GT(active_base(), open_at + 10);

  auto stats = log->compact();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  const auto after = read_all(*log);
  auto value_of = [&](int64_t offset) -> std::optional<std::string> {
    for (const Stored& s : after)
      if (s.offset == offset) return s.value;
    return std::nullopt;
  };
  EXPECT_EQ(value_of(0), "committed");   // newest committed k
  EXPECT_EQ(value_of(2), std::nullopt);  // the aborted record is gone
  EXPECT_EQ(value_of(open_at), "open");  // at the last stable offset: untouched
  int k0 = 0;
  for (const Stored& s : after) k0 += s.key == "k0";
  EXPECT_EQ(k0, 30) << "records past the last stable offset are not compacted";

  // The transaction ends: the rest becomes cleanable once segments roll again.
  ASSERT_TRUE(log->append_marker(8, 0, true).ok());
  write_keys(*log, 12, 1, 30);
  ASSERT_TRUE(log->compact().ok());
  k0 = 0;
  for (const Stored& s : read_all(*log)) k0 += s.key == "k0";
  EXPECT_LT(k0, 12);
}

TEST_F(CompactionTest, KeylessRecordsStayAndTheLatestProducerBatchesStayWhole) {
  auto log = open();
  for (int i = 0; i < 20; ++i) {
    auto b = make_keyed_batch({{std::nullopt, "keyless" + std::to_string(i)},
                               {"same", "v" + std::to_string(i) + std::string(60, '.')}},
                              1000, 42, 0, 2 * i);
    ASSERT_TRUE(log->append(b).ok());
  }
  ASSERT_TRUE(log->compact().ok());
  int keyless = 0;
  for (const Stored& s : read_all(*log)) keyless += !s.key.has_value();
  EXPECT_EQ(keyless, 20);
  // The producer's duplicate check still knows its last batch after a restart.
  log.reset();
  log = open();
  auto retry = make_keyed_batch({{std::nullopt, "keyless19"}, {"same", "v19"}}, 1000, 42, 0, 38);
  auto base = log->append(retry);
  ASSERT_TRUE(base.ok()) << base.error().message;
  EXPECT_EQ(*base, 38) << "a retry of the last batch is answered with its original offset";
  EXPECT_EQ(log->log_end_offset(), 40);
}

TEST_F(CompactionTest, PoliciesAreIndependent) {
  LogConfig only_delete = compacted();
  only_delete.compact = false;
  only_delete.delete_old = true;
  only_delete.retention_ms = 1;
  {
    auto log = open(only_delete);
    write_keys(*log, 30, 2);
    auto stats = log->compact();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->segments_rewritten, 0);
    EXPECT_EQ(read_all(*log).size(), 30u);
  }
  fs::remove_all(dir_);
  LogConfig only_compact = compacted();
  only_compact.retention_ms = 1;  // would delete everything old under "delete"
  auto log = open(only_compact);
  write_keys(*log, 30, 2);
  EXPECT_EQ(log->enforce_retention(1'000'000'000), 0);
  EXPECT_EQ(log->log_start_offset(), 0);
}

}  // namespace
}  // namespace kv::broker
