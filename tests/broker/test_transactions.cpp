// Transactions on the durable broker, driven by librdkafka's transactional producer and
// read_committed consumers over TCP: commit and abort markers, the last stable offset, offsets
// committed with a transaction, fencing by a new producer with the same transactional id,
// transaction timeouts and open transactions aborted by a broker restart.
//
// With KV_TEST_KAFKA=BOOTSTRAP the same tests run against that Apache Kafka instead
// (tests/integration/kafka_gtest.sh starts one), each on a topic, transactional ids and groups
// of its own; what only kvision's broker can show (its transaction counters, a restart in
// process) is checked on kvision's broker alone.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "broker/broker.h"
#include "common/clock.h"
#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace kv {
namespace {
namespace fs = std::filesystem;

constexpr int kTimeoutMs = 10000;

class TransactionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* kafka = std::getenv("KV_TEST_KAFKA"); kafka != nullptr && *kafka != 0) {
      // Apache Kafka keeps everything between tests: names of this test's own.
      kafka_.brokers = kafka;
      prefix_ = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-";
      topic_ = prefix_ + "t";
      auto admin = kafka::Admin::create(kafka_);
      ASSERT_TRUE(admin.ok());
      ASSERT_TRUE((*admin)->create_topic(topic_, 1, {}, kTimeoutMs, 1).ok());
      return;
    }
    dir_ = fs::temp_directory_path() / ("kv_txn_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    start_broker(0);
  }
  // A transactional id or group name unique to this test.
  std::string id(const std::string& name) const { return prefix_ + name; }
  void TearDown() override {
    broker_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void start_broker(int port) {
    broker::BrokerConfig config;
    config.data_dir = dir_;
    config.server.port = port;
    config.server.default_partitions = 1;
    config.txn_check_ms = 100;
    auto b = broker::DurableBroker::start(config);
    ASSERT_TRUE(b.ok()) << b.error().message;
    broker_ = std::move(*b);
    kafka_.brokers = broker_->bootstrap();
  }

  std::unique_ptr<kafka::Producer> producer(const std::string& txn_id,
                                            const std::string& timeout_ms = "10000") {
    kafka::Properties props{{"linger.ms", "0"}};
    if (!txn_id.empty()) {
      props.emplace_back("transactional.id", id(txn_id));
      props.emplace_back("transaction.timeout.ms", timeout_ms);
    }
    auto p = kafka::Producer::create(kafka_, props);
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (!p.ok()) return nullptr;
    if (!txn_id.empty()) {
      const kafka::TxnResult r = (*p)->init_transactions(kTimeoutMs);
      EXPECT_TRUE(r.ok()) << r.message;
    }
    return std::move(*p);
  }

  void send(kafka::Producer& p, const std::vector<std::string>& values) {
    for (const std::string& v : values) {
      kafka::OutRecord r{
          topic_, "k", {reinterpret_cast<const uint8_t*>(v.data()), v.size()}, {}, 0};
      ASSERT_TRUE(p.produce(r, [](const kafka::Delivery& d) {
                     EXPECT_TRUE(d.status.ok()) << d.status.error().message;
                   }).ok());
    }
    ASSERT_TRUE(p.flush(kTimeoutMs).ok());  // stored on the broker
  }

  // Every value readable from the start of partition 0 within wait_ms, stopping early once
  // `expect` are read.
  std::vector<std::string> read_all(bool committed, size_t expect, int wait_ms = 5000) {
    auto conf = kafka::make_conf(
        kafka_, {{"group.id", id("reader")},
                 {"enable.auto.commit", "false"},
                 {"fetch.wait.max.ms", "50"},
                 {"isolation.level", committed ? "read_committed" : "read_uncommitted"}});
    EXPECT_TRUE(conf.ok());
    auto rk = kafka::new_handle(RD_KAFKA_CONSUMER, *conf, "reader");
    EXPECT_TRUE(rk.ok());
    kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk->get(), list.get());
    std::vector<std::string> out;
    const int64_t deadline = mono_now_us() + int64_t{wait_ms} * 1000;
    while (out.size() < expect && mono_now_us() < deadline) {
      kafka::MessagePtr m(rd_kafka_consumer_poll(rk->get(), 50));
      if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      out.emplace_back(static_cast<const char*>(m->payload), m->len);
    }
    rd_kafka_consumer_close(rk->get());
    return out;
  }

  std::map<std::pair<std::string, int32_t>, int64_t> committed(const std::string& group) {
    auto admin = kafka::Admin::create(kafka_);
    EXPECT_TRUE(admin.ok());
    auto offsets = (*admin)->committed_offsets(id(group), {{topic_, 0}}, kTimeoutMs);
    EXPECT_TRUE(offsets.ok()) << offsets.error().message;
    if (!offsets.ok()) return {};
    return *offsets;
  }

  fs::path dir_;
  std::unique_ptr<broker::DurableBroker> broker_;  // null on Apache Kafka
  kafka::KafkaConfig kafka_;
  std::string prefix_;
  std::string topic_ = "t";
};

TEST_F(TransactionsTest, ReadCommittedSkipsAbortedTransactions) {
  auto p = producer("txn-a");
  ASSERT_TRUE(p->begin_transaction().ok());
  send(*p, {"c0", "c1", "c2"});
  ASSERT_TRUE(p->commit_transaction(kTimeoutMs).ok());
  ASSERT_TRUE(p->begin_transaction().ok());
  send(*p, {"a0", "a1"});
  ASSERT_TRUE(p->abort_transaction(kTimeoutMs).ok());
  ASSERT_TRUE(p->begin_transaction().ok());
  send(*p, {"c3"});
  ASSERT_TRUE(p->commit_transaction(kTimeoutMs).ok());

  EXPECT_EQ(read_all(true, 4), (std::vector<std::string>{"c0", "c1", "c2", "c3"}));
  EXPECT_EQ(read_all(false, 6), (std::vector<std::string>{"c0", "c1", "c2", "a0", "a1", "c3"}));
  if (broker_) {
    const auto stats = broker_->transactions();
    EXPECT_EQ(stats.committed, 2);
    EXPECT_EQ(stats.aborted, 1);
    EXPECT_EQ(stats.open, 0);
  }
}

TEST_F(TransactionsTest, OpenTransactionHoldsBackLaterRecords) {
  auto txn = producer("txn-open");
  auto plain = producer("");
  ASSERT_TRUE(txn->begin_transaction().ok());
  send(*txn, {"x0", "x1"});
  send(*plain, {"p0"});  // after the open transaction: above the last stable offset
  EXPECT_TRUE(read_all(true, 1, 1500).empty());
  EXPECT_EQ(read_all(false, 3).size(), 3U);
  ASSERT_TRUE(txn->commit_transaction(kTimeoutMs).ok());
  EXPECT_EQ(read_all(true, 3), (std::vector<std::string>{"x0", "x1", "p0"}));
}

TEST_F(TransactionsTest, OffsetsAreCommittedOnlyWithTheTransaction) {
  auto p = producer("txn-offsets");
  auto consumer = kafka::Consumer::create(kafka_, id("workers"));  // never joins: metadata only
  ASSERT_TRUE(consumer.ok());

  ASSERT_TRUE(p->begin_transaction().ok());
  send(*p, {"r0"});
  ASSERT_TRUE(p->send_offsets(**consumer, {{topic_, 0, 5}}, kTimeoutMs).ok());
  ASSERT_TRUE(p->abort_transaction(kTimeoutMs).ok());
  EXPECT_TRUE(committed("workers").empty());

  ASSERT_TRUE(p->begin_transaction().ok());
  send(*p, {"r1"});
  const kafka::TxnResult r = p->send_offsets(**consumer, {{topic_, 0, 7}}, kTimeoutMs);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(committed("workers").empty());  // not before the commit
  ASSERT_TRUE(p->commit_transaction(kTimeoutMs).ok());
  const auto offsets = committed("workers");
  ASSERT_EQ(offsets.size(), 1U);
  EXPECT_EQ(offsets.begin()->second, 7);
  (*consumer)->close();
}

TEST_F(TransactionsTest, NewProducerWithTheSameIdFencesTheOldOne) {
  auto zombie = producer("worker-1");
  ASSERT_TRUE(zombie->begin_transaction().ok());
  send(*zombie, {"z0", "z1"});
  auto fresh = producer("worker-1");  // aborts the zombie's open transaction
  ASSERT_TRUE(fresh->begin_transaction().ok());
  send(*fresh, {"f0"});
  ASSERT_TRUE(fresh->commit_transaction(kTimeoutMs).ok());

  const kafka::TxnResult r = zombie->commit_transaction(kTimeoutMs);
  EXPECT_EQ(r.kind, kafka::TxnResult::kFatal) << r.message;
  EXPECT_EQ(read_all(true, 1), (std::vector<std::string>{"f0"}));
  EXPECT_EQ(read_all(false, 3).size(), 3U);  // the zombie's records are stored, as aborted
}

TEST_F(TransactionsTest, TimedOutTransactionIsAbortedAndItsProducerFenced) {
  auto slow = producer("slow", "3000");  // also bounds message.timeout.ms
  auto plain = producer("");
  ASSERT_TRUE(slow->begin_transaction().ok());
  send(*slow, {"s0"});
  send(*plain, {"p0"});
  // The broker aborts it after 3 s; p0 becomes readable without any call from the producer.
  EXPECT_EQ(read_all(true, 1, 8000), (std::vector<std::string>{"p0"}));
  if (broker_) {
    EXPECT_EQ(broker_->transactions().timed_out, 1);
  }
  EXPECT_FALSE(slow->commit_transaction(kTimeoutMs).ok());
}

TEST_F(TransactionsTest, RestartAbortsTransactionsLeftOpen) {
  if (!broker_)
    GTEST_SKIP() << "restarts kvision's broker in process (on Kafka: integration.cluster_*)";
  {
    auto p = producer("crashed");
    ASSERT_TRUE(p->begin_transaction().ok());
    send(*p, {"o0", "o1"});
    auto plain = producer("");
    send(*plain, {"p0"});
    const int port = broker_->port();
    broker_.reset();  // the transaction is still open in the log
    start_broker(port);
    // p is destroyed with its transaction still open: a crashed producer.
  }
  EXPECT_EQ(read_all(true, 1), (std::vector<std::string>{"p0"}));
  EXPECT_EQ(broker_->transactions().open, 0);
  // The id is fenced after the restart: a new producer gets the next epoch and works.
  auto again = producer("crashed");
  ASSERT_TRUE(again->begin_transaction().ok());
  send(*again, {"n0"});
  ASSERT_TRUE(again->commit_transaction(kTimeoutMs).ok());
  EXPECT_EQ(read_all(true, 2), (std::vector<std::string>{"p0", "n0"}));
}

}  // namespace
}  // namespace kv
