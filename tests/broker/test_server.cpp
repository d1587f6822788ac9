// The durable broker's request handling, frame by frame, without a network.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "batch_builder.h"
#include "broker/handlers.h"
#include "broker/protocol.h"
#include "broker/record_batch.h"
#include "broker/server.h"

namespace kv::broker {
namespace {
namespace fs = std::filesystem;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kv_srv_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    auto store = TopicStore::open(dir_, LogConfig{});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto groups = GroupCoordinator::open(dir_);
    ASSERT_TRUE(groups.ok());
    groups_ = std::move(*groups);
    ServerParams params;
    params.port = 0;
    params.default_partitions = 2;
    auto txns = TxnCoordinator::open(dir_, *store_, *groups_);
    ASSERT_TRUE(txns.ok());
    txns_ = std::move(*txns);
    auto server = BrokerServer::start(params, *store_, *groups_, *txns_);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_.reset();
    txns_.reset();
    groups_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  static Writer header(int16_t api, int16_t version, int32_t correlation) {
    Writer w;
    w.i16(api);
    w.i16(version);
    w.i32(correlation);
    w.nullable_string(std::string("test"));
    return w;
  }
  std::vector<uint8_t> call(Writer& w) {
    auto r = server_->handle(w.buffer());
    EXPECT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : std::vector<uint8_t>{};
  }

  fs::path dir_;
  std::unique_ptr<TopicStore> store_;
  std::unique_ptr<GroupCoordinator> groups_;
  std::unique_ptr<TxnCoordinator> txns_;
  std::unique_ptr<BrokerServer> server_;
};

TEST_F(ServerTest, ApiVersionsListsWhatIsImplemented) {
  Writer w = header(18, 2, 7);
  const auto resp = call(w);
  Reader r(resp);
  EXPECT_EQ(r.i32(), 7);
  EXPECT_EQ(r.i16(), 0);
  const int32_t n = r.array_length();
  EXPECT_EQ(static_cast<size_t>(n), supported_apis().size());
  bool has_produce = false;
  for (int32_t i = 0; i < n; ++i) {
    const int16_t key = r.i16();
    r.i16();
    const int16_t max = r.i16();
    if (key == 0) has_produce = max >= 3;
  }
  EXPECT_TRUE(has_produce);
  EXPECT_EQ(r.i32(), 0);  // throttle
  EXPECT_FALSE(r.failed());
}

TEST_F(ServerTest, CountsRequestsByApi) {
  Writer versions = header(18, 2, 1);
  call(versions);
  call(versions);
  Writer bogus = header(18, 2, 2);
  bogus.buffer().resize(5);  // a header cut short
  EXPECT_FALSE(server_->handle(bogus.buffer()).ok());
  EXPECT_EQ(server_->stats().requests_by_api[18].load(), 2);
  EXPECT_EQ(server_->stats().requests_by_api_text(), "ApiVersions=2");
  EXPECT_EQ(api_name(1), "Fetch");
  EXPECT_EQ(api_name(63), "Api63");
}

TEST_F(ServerTest, NewerApiVersionsGetsV0ErrorWithTheList) {  // KIP-511
  Writer w = header(18, 3, 9);
  w.i8(0);  // flexible header's tagged fields: the body is not read
  const auto resp = call(w);
  Reader r(resp);
  EXPECT_EQ(r.i32(), 9);
  EXPECT_EQ(r.i16(), 35);  // UNSUPPORTED_VERSION
  EXPECT_GT(r.array_length(), 0);
}

TEST_F(ServerTest, ProduceThenFetchReturnsTheBatch) {
  ASSERT_TRUE(store_->create_topic("t", 1).ok());
  const auto batch = testing::make_batch(3, 1000);
  Writer p = header(0, 7, 1);
  p.nullable_string(std::nullopt);
  p.i16(-1);  // acks=all
  p.i32(1000);
  p.array_length(1);
  p.string("t");
  p.array_length(1);
  p.i32(0);
  p.bytes(batch);
  {
    const auto resp = call(p);
    Reader r(resp);
    r.i32();
    ASSERT_EQ(r.array_length(), 1);
    EXPECT_EQ(r.string(), "t");
    ASSERT_EQ(r.array_length(), 1);
    EXPECT_EQ(r.i32(), 0);
    EXPECT_EQ(r.i16(), 0) << "no error";
    EXPECT_EQ(r.i64(), 0) << "base offset";
  }
  Writer f = header(1, 11, 2);
  f.i32(-1);
  f.i32(0);  // max wait
  f.i32(1);
  f.i32(1 << 20);
  f.i8(0);
  f.i32(0);
  f.i32(-1);
  f.array_length(1);
  f.string("t");
  f.array_length(1);
  f.i32(0);
  f.i32(-1);
  f.i64(0);
  f.i64(-1);
  f.i32(1 << 20);
  f.array_length(0);
  f.string("");
  const auto resp = call(f);
  Reader r(resp);
  EXPECT_EQ(r.i32(), 2);
  r.i32();
  EXPECT_EQ(r.i16(), 0);
  r.i32();
  ASSERT_EQ(r.array_length(), 1);
  EXPECT_EQ(r.string(), "t");
  ASSERT_EQ(r.array_length(), 1);
  EXPECT_EQ(r.i32(), 0);
  EXPECT_EQ(r.i16(), 0);
  EXPECT_EQ(r.i64(), 3) << "high watermark";
  r.i64();
  EXPECT_EQ(r.i64(), 0) << "log start";
  r.array_length();
  r.i32();
  const auto records = r.bytes();
  ASSERT_EQ(records.size(), batch.size());
  EXPECT_TRUE(batch_crc_ok(records));
  EXPECT_FALSE(r.failed());
}

TEST_F(ServerTest, FetchPastTheEndIsOffsetOutOfRange) {
  ASSERT_TRUE(store_->create_topic("t", 1).ok());
  Writer f = header(1, 4, 3);
  f.i32(-1);
  f.i32(0);
  f.i32(1);
  f.i32(1 << 20);
  f.i8(0);
  f.array_length(1);
  f.string("t");
  f.array_length(1);
  f.i32(0);
  f.i64(42);
  f.i32(1 << 20);
  const auto resp = call(f);
  Reader r(resp);
  r.i32();
  r.i32();
  r.array_length();
  r.string();
  r.array_length();
  r.i32();
  EXPECT_EQ(r.i16(), 1);  // OFFSET_OUT_OF_RANGE
}

TEST_F(ServerTest, MalformedRequestsAreErrorsNotCrashes) {
  EXPECT_FALSE(server_->handle(std::vector<uint8_t>{0, 3}).ok()) << "truncated header";
  Writer unknown = header(999, 0, 1);
  EXPECT_FALSE(server_->handle(unknown.buffer()).ok()) << "unknown API";
  Writer truncated = header(0, 7, 1);
  truncated.nullable_string(std::nullopt);
  truncated.i16(-1);
  truncated.i32(1000);
  truncated.i32(5);  // claims 5 topics, has none
  EXPECT_FALSE(server_->handle(truncated.buffer()).ok());
  Writer huge_array = header(3, 1, 1);
  huge_array.i32(0x7FFFFFFF);
  EXPECT_FALSE(server_->handle(huge_array.buffer()).ok());
}

// KIP-447: TxnOffsetCommit v3 (a flexible version) carries the member's generation, and a
// member the group does not know cannot commit offsets with its transaction.
TEST_F(ServerTest, TxnOffsetCommitV3FencesUnknownMembers) {
  ASSERT_TRUE(store_->create_topic("t", 1).ok());
  Writer init = header(22, 1, 1);
  init.string("tx");
  init.i32(10000);
  const auto init_resp = call(init);
  Reader ir(init_resp);
  ir.i32();
  ir.i32();
  ASSERT_EQ(ir.i16(), 0);
  const int64_t pid = ir.i64();
  const int16_t epoch = ir.i16();

  Writer add = header(25, 1, 2);
  add.string("tx");
  add.i64(pid);
  add.i16(epoch);
  add.string("g");
  const auto add_resp = call(add);
  Reader ar(add_resp);
  ar.i32();
  ar.i32();
  EXPECT_EQ(ar.i16(), 0);

  auto commit = [&](int32_t generation, const std::string& member) {
    Writer w = header(28, 3, 3);
    w.no_tagged_fields();  // request header v2
    w.compact_string("tx");
    w.compact_string("g");
    w.i64(pid);
    w.i16(epoch);
    w.i32(generation);
    w.compact_string(member);
    w.uvarint(0);  // group instance id: null
    w.compact_array_length(1);
    w.compact_string("t");
    w.compact_array_length(1);
    w.i32(0);
    w.i64(5);
    w.i32(-1);
    w.uvarint(0);  // metadata: null
    w.no_tagged_fields();
    w.no_tagged_fields();
    w.no_tagged_fields();
    const auto resp = call(w);
    Reader r(resp);
    EXPECT_EQ(r.i32(), 3);
    r.skip_tagged_fields();  // response header v1
    r.i32();
    EXPECT_EQ(r.compact_array_length(), 1);
    EXPECT_EQ(r.compact_string(), "t");
    EXPECT_EQ(r.compact_array_length(), 1);
    EXPECT_EQ(r.i32(), 0);
    const int16_t error = r.i16();
    EXPECT_FALSE(r.failed());
    return error;
  };
  EXPECT_EQ(commit(4, "zombie"), kErrUnknownMemberId);
  EXPECT_EQ(commit(-1, ""), 0);  // outside the group protocol: accepted

  Writer end = header(26, 1, 4);
  end.string("tx");
  end.i64(pid);
  end.i16(static_cast<int16_t>(epoch + 1));  // a stale or future epoch is fenced
  end.i8(1);
  const auto end_resp = call(end);
  Reader er(end_resp);
  er.i32();
  er.i32();
  EXPECT_EQ(er.i16(), kErrInvalidProducerEpoch);
}

}  // namespace
}  // namespace kv::broker
