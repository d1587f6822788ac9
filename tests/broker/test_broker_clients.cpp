// librdkafka through kvision's client code (Producer, Consumer, Admin) against the durable
// broker over TCP: topic admin and configs, a two-member group with rebalances, committed
// offsets across a broker restart, and retention with the reset policy.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "broker/broker.h"
#include "common/clock.h"
#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/topics.h"

namespace kv {
namespace {
namespace fs = std::filesystem;

constexpr int kTimeoutMs = 10000;

class BrokerClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kv_clients_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    start_broker(0);
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }
  void start_broker(int port) {
    broker::BrokerConfig config;
    config.data_dir = dir_;
    config.server.port = port;
    config.server.default_partitions = 4;
    auto b = broker::DurableBroker::start(config);
    ASSERT_TRUE(b.ok()) << b.error().message;
    broker_ = std::move(*b);
    kafka_.brokers = broker_->bootstrap();
  }
  std::unique_ptr<kafka::Admin> admin() {
    auto a = kafka::Admin::create(kafka_);
    EXPECT_TRUE(a.ok()) << a.error().message;
    return a.ok() ? std::move(*a) : nullptr;
  }
  // Produces n records keyed k0..k(n-1) and returns the end offset of each partition.
  std::map<int32_t, int64_t> produce(const std::string& topic, int n, size_t value_bytes = 16) {
    auto p = kafka::Producer::create(kafka_, {{"linger.ms", "0"}});
    EXPECT_TRUE(p.ok());
    std::map<int32_t, int64_t> ends;
    std::mutex mu;
    for (int i = 0; i < n; ++i) {
      std::string value = "v" + std::to_string(i);
      value.resize(std::max(value.size(), value_bytes), '.');
      const std::vector<uint8_t> bytes(value.begin(), value.end());
      kafka::OutRecord r{topic, "k" + std::to_string(i), bytes, {}, 0};
      EXPECT_TRUE((*p)->produce(r,
                                [&](const kafka::Delivery& d) {
                                  EXPECT_TRUE(d.status.ok());
                                  std::lock_guard lock(mu);
                                  ends[d.partition] = std::max(ends[d.partition], d.offset + 1);
                                })
                      .ok());
      if (value_bytes > 16) {  // one batch each
        EXPECT_TRUE((*p)->flush(kTimeoutMs).ok());
      }
    }
    EXPECT_TRUE((*p)->flush(kTimeoutMs).ok());
    return ends;
  }

  fs::path dir_;
  std::unique_ptr<broker::DurableBroker> broker_;
  kafka::KafkaConfig kafka_;
};

TEST(TopicSettings, FitTheClusterOrSayWhyNot) {
  auto one = kafka::resolve_topic_settings({}, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->replication_factor, 1);
  EXPECT_EQ(one->min_insync_replicas, 1);
  EXPECT_EQ(one->partitions, 4);
  auto five = kafka::resolve_topic_settings({}, 5);
  ASSERT_TRUE(five.ok());
  EXPECT_EQ(five->replication_factor, 3);  // min(3, brokers)
  EXPECT_EQ(five->min_insync_replicas, 2);
  auto two = kafka::resolve_topic_settings({.partitions = 8}, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->replication_factor, 2);
  EXPECT_EQ(two->min_insync_replicas, 2);
  EXPECT_EQ(two->partitions, 8);

  auto too_many = kafka::resolve_topic_settings({.replication_factor = 3}, 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(too_many.error().message,
            "--replication-factor 3 needs at least 3 brokers, and the cluster has 1: lower it, "
            "or add brokers");
  auto isr = kafka::resolve_topic_settings({.replication_factor = 2, .min_insync_replicas = 3}, 3);
  ASSERT_FALSE(isr.ok());
  EXPECT_NE(isr.error().message.find("--min-insync-replicas 3 is more than"), std::string::npos);
  EXPECT_FALSE(kafka::resolve_topic_settings({.partitions = 0}, 3).ok());
}

TEST_F(BrokerClientsTest, EnsureTopicsCreatesWhatIsMissingAndKeepsWhatExists) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("kept", 2, {}, kTimeoutMs).ok());
  ASSERT_TRUE(kafka::ensure_topics(kafka_, {"kept", "made"}, {.partitions = 3}, kTimeoutMs).ok());
  EXPECT_EQ(broker_->store().partition_count("kept"), 2);  // left as it was
  EXPECT_EQ(broker_->store().partition_count("made"), 3);
  auto layout = a->layout(kTimeoutMs);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  EXPECT_EQ(layout->brokers.size(), 1U);
  EXPECT_EQ(layout->topics["made"].partitions, 3);
  EXPECT_EQ(layout->topics["made"].replication_factor, 1);
  // Again: nothing to do, no error.
  EXPECT_TRUE(kafka::ensure_topics(kafka_, {"kept", "made"}, {.partitions = 3}, kTimeoutMs).ok());
  // More replicas than brokers: refused before anything is created.
  Status s = kafka::ensure_topics(kafka_, {"never"}, {.replication_factor = 3}, kTimeoutMs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("the cluster has 1"), std::string::npos) << s.error().message;
  EXPECT_EQ(broker_->store().partition_count("never"), 0);
  // The broker itself refuses what it cannot keep, as Kafka does.
  Status rf = a->create_topic("rf2", 1, {}, kTimeoutMs, 2);
  ASSERT_FALSE(rf.ok());
  EXPECT_NE(rf.error().message.find("INVALID_REPLICATION_FACTOR"), std::string::npos)
      << rf.error().message;
}

TEST_F(BrokerClientsTest, CreatesDescribesAndDeletesTopics) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("adm", 3, {{"retention.ms", "60000"}}, kTimeoutMs).ok());
  EXPECT_EQ(broker_->store().partition_count("adm"), 3);

  Status again = a->create_topic("adm", 3, {}, kTimeoutMs);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("TOPIC_ALREADY_EXISTS"), std::string::npos)
      << again.error().message;
  Status bad = a->create_topic("bad", 1, {{"retention.ms", "soon"}}, kTimeoutMs);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("INVALID_CONFIG"), std::string::npos) << bad.error().message;
  EXPECT_EQ(broker_->store().partition_count("bad"), 0);

  auto configs = a->topic_configs("adm", kTimeoutMs);
  ASSERT_TRUE(configs.ok()) << configs.error().message;
  EXPECT_EQ((*configs)["retention.ms"], "60000");
  EXPECT_EQ((*configs)["cleanup.policy"], "delete");
  EXPECT_EQ((*configs)["retention.bytes"], "-1");

  ASSERT_TRUE(a->delete_topic("adm", kTimeoutMs).ok());
  EXPECT_EQ(broker_->store().partition_count("adm"), 0);
  EXPECT_FALSE(fs::exists(dir_ / "adm-0"));
  Status gone = a->delete_topic("adm", kTimeoutMs);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("UNKNOWN_TOPIC"), std::string::npos) << gone.error().message;
}

// Records which partitions a member owns, as librdkafka reports them.
class Owned : public kafka::RebalanceListener {
 public:
  void on_assigned(const std::vector<kafka::TopicPartition>& parts) override {
    for (const auto& p : parts) owned.insert(p.partition);
  }
  void on_revoking(const std::vector<kafka::TopicPartition>& parts) override {
    for (const auto& p : parts) owned.erase(p.partition);
  }
  std::set<int32_t> owned;
};

// A member that paused fetching (a busy detector) and then lost and regained its partition in a
// rebalance must fetch it again: librdkafka keeps a partition's pause across unassign/assign,
// and a detector stalled for good on Kafka after a broker failover until the consumer cleared it.
TEST_F(BrokerClientsTest, APausedPartitionIsFetchedAgainAfterARebalance) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("pz", 1, {}, kTimeoutMs).ok());
  produce("pz", 1);
  const kafka::Properties props = {{"session.timeout.ms", "6000"},
                                   {"auto.offset.reset", "earliest"}};
  Owned owned_a;
  auto ca = kafka::Consumer::create(kafka_, "gp", props, &owned_a);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE((*ca)->subscribe({"pz"}).ok());
  int read = 0;
  auto poll_a = [&] {
    auto m = (*ca)->poll(50);
    ASSERT_TRUE(m.ok());
    if (*m) ++read;
  };
  for (Stopwatch sw; read < 1 && sw.elapsed_ms() < kTimeoutMs;) poll_a();
  ASSERT_EQ(read, 1);
  ASSERT_TRUE((*ca)->pause().ok());

  // A second member comes and goes: two rebalances, and the partition ends up with a again.
  Owned owned_b;
  {
    auto cb = kafka::Consumer::create(kafka_, "gp", props, &owned_b);
    ASSERT_TRUE(cb.ok());
    ASSERT_TRUE((*cb)->subscribe({"pz"}).ok());
    for (Stopwatch sw;
         owned_a.owned.size() + owned_b.owned.size() != 1 || sw.elapsed_ms() < 2000;) {
      if (sw.elapsed_ms() > 3 * kTimeoutMs) break;
      poll_a();
      (void)(*cb)->poll(50);
    }
    (*cb)->close();
  }
  for (Stopwatch sw; owned_a.owned.empty() && sw.elapsed_ms() < 3 * kTimeoutMs;) poll_a();
  ASSERT_EQ(owned_a.owned.size(), 1u);
  read = 0;
  produce("pz", 3);
  for (Stopwatch sw; read < 3 && sw.elapsed_ms() < kTimeoutMs;) poll_a();
  EXPECT_EQ(read, 3) << "the partition stayed paused after it was assigned again";
  (*ca)->close();
}

TEST_F(BrokerClientsTest, TwoMembersRebalanceCommitAndAreDescribed) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("grp", 4, {}, kTimeoutMs).ok());
  const std::map<int32_t, int64_t> ends = produce("grp", 200);

  const kafka::Properties props = {{"session.timeout.ms", "6000"},
                                   {"auto.offset.reset", "earliest"},
                                   {"partition.assignment.strategy", "roundrobin"}};
  Owned owned_a;
  Owned owned_b;
  auto ca = kafka::Consumer::create(kafka_, "g2", props, &owned_a);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE((*ca)->subscribe({"grp"}).ok());
  std::map<std::pair<int32_t, int64_t>, int> seen;
  auto drain = [&](kafka::Consumer& c) {
    auto m = c.poll(50);
    ASSERT_TRUE(m.ok());
    if (!*m) return;
    ++seen[{m->partition(), m->offset()}];
    ASSERT_TRUE(c.store_offset("grp", m->partition(), m->offset() + 1).ok());
  };
  for (Stopwatch sw; owned_a.owned.size() < 4 && sw.elapsed_ms() < kTimeoutMs;) drain(**ca);
  ASSERT_EQ(owned_a.owned.size(), 4u);

  auto cb = kafka::Consumer::create(kafka_, "g2", props, &owned_b);
  ASSERT_TRUE(cb.ok());
  ASSERT_TRUE((*cb)->subscribe({"grp"}).ok());
  for (Stopwatch sw; (owned_b.owned.empty() || owned_a.owned.size() + owned_b.owned.size() != 4 ||
                      seen.size() < 200) &&
                     sw.elapsed_ms() < 3 * kTimeoutMs;) {
    drain(**ca);
    drain(**cb);
  }
  EXPECT_EQ(owned_a.owned.size(), 2u);  // roundrobin: 4 partitions over 2 members
  EXPECT_EQ(owned_b.owned.size(), 2u);
  ASSERT_EQ(seen.size(), 200u);
  ASSERT_TRUE((*ca)->commit_sync().ok());
  ASSERT_TRUE((*cb)->commit_sync().ok());

  auto groups = a->list_groups(kTimeoutMs);
  ASSERT_TRUE(groups.ok()) << groups.error().message;
  bool listed = false;
  for (const auto& g : *groups) listed = listed || g.group_id == "g2";
  EXPECT_TRUE(listed);
  auto desc = a->describe_group("g2", kTimeoutMs);
  ASSERT_TRUE(desc.ok()) << desc.error().message;
  EXPECT_EQ(desc->state, "Stable");
  EXPECT_EQ(desc->assignor, "roundrobin");
  ASSERT_EQ(desc->members.size(), 2u);
  std::set<int32_t> described;
  for (const auto& m : desc->members) {
    for (const auto& [topic, p] : m.assignment) described.insert(p);
  }
  EXPECT_EQ(described, (std::set<int32_t>{0, 1, 2, 3}));

  const kafka::Admin::Partitions partitions = {{"grp", 0}, {"grp", 1}, {"grp", 2}, {"grp", 3}};
  auto committed = a->committed_offsets("g2", partitions, kTimeoutMs);
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  for (const auto& [p, end] : ends) {
    EXPECT_EQ((*committed)[std::make_pair(std::string("grp"), p)], end) << "partition " << p;
  }

  (*ca)->close();  // leaves: b takes every partition
  for (Stopwatch sw; owned_b.owned.size() < 4 && sw.elapsed_ms() < kTimeoutMs;) drain(**cb);
  EXPECT_EQ(owned_b.owned.size(), 4u);
  (*cb)->close();
  ca->reset();
  cb->reset();

  // Committed offsets are durable: they are still there after the broker restarts.
  const int port = broker_->port();
  a.reset();
  broker_.reset();
  start_broker(port);
  a = admin();
  auto after = a->committed_offsets("g2", partitions, kTimeoutMs);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(*after, *committed);
}

TEST_F(BrokerClientsTest, ConsumerBeforeTheLogStartGetsItsResetPolicy) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("ret", 1, {{"segment.bytes", "2048"}, {"retention.bytes", "4096"}},
                              kTimeoutMs)
                  .ok());
  produce("ret", 60, 400);
  ASSERT_GT(broker_->store().enforce_retention(wall_now_us() / 1000), 0);
  const int64_t start = broker_->store().partition("ret", 0)->log_start_offset();
  ASSERT_GT(start, 0);

  // Assigned at offset 0, before the log start, with each reset policy.
  auto consume_from_zero = [&](const char* policy) -> std::pair<int64_t, rd_kafka_resp_err_t> {
    auto conf = kafka::make_conf(kafka_, {{"group.id", "reset"}, {"auto.offset.reset", policy}});
    EXPECT_TRUE(conf.ok());
    auto rk = kafka::new_handle(RD_KAFKA_CONSUMER, *conf, "consumer");
    EXPECT_TRUE(rk.ok());
    rd_kafka_poll_set_consumer(rk->get());
    kafka::PartitionListPtr parts(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(parts.get(), "ret", 0)->offset = 0;
    EXPECT_EQ(rd_kafka_assign(rk->get(), parts.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (Stopwatch sw; sw.elapsed_ms() < kTimeoutMs;) {
      kafka::MessagePtr m(rd_kafka_consumer_poll(rk->get(), 100));
      if (!m) continue;
      const std::pair<int64_t, rd_kafka_resp_err_t> out{m->offset, m->err};
      rd_kafka_consumer_close(rk->get());
      return out;
    }
    return {-1, RD_KAFKA_RESP_ERR__TIMED_OUT};
  };
  const auto [earliest_offset, earliest_err] = consume_from_zero("earliest");
  EXPECT_EQ(earliest_err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(earliest_offset, start);
  const auto [error_offset, error_err] = consume_from_zero("error");
  EXPECT_EQ(error_err, RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) << rd_kafka_err2name(error_err);
}

}  // namespace
}  // namespace kv
