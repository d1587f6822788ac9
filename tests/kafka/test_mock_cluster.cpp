// The embedded broker, our producer/consumer wrappers and the lag probe, against each other
// over real TCP.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include "common/clock.h"
#include "kafka/client.h"
#include "kafka/consumer.h"
#include "kafka/lag_probe.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"

namespace kv::kafka {
namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(MockCluster, ListensOnTheRequestedPortWithKvisionTopics) {
  const int port = free_port();
  BrokerParams params;
  params.port = port;
  params.partitions = 3;
  params.topics = {{"events", 2}, {"alerts", 1}};  // a new topic; a built-in one resized
  auto broker = MockCluster::start(params);
  ASSERT_TRUE(broker.ok()) << broker.error().message;
  EXPECT_EQ((*broker)->bootstrap(), "127.0.0.1:" + std::to_string(port));
  std::map<std::string, int> topics;
  for (const auto& t : (*broker)->topics()) topics[t.name] = t.partitions;
  EXPECT_EQ(topics["raw_video_frames"], 3);
  EXPECT_EQ(topics["processed_images"], 3);
  EXPECT_EQ(topics["detections"], 3);
  EXPECT_EQ(topics["alerts"], 1);
  EXPECT_EQ(topics["events"], 2);

  // A second broker on the same port fails with a message naming it.
  params.topics.clear();
  auto second = MockCluster::start(params);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(std::to_string(port)), std::string::npos);
}

TEST(MockCluster, TopicSpecParsing) {
  auto a = parse_topic_spec("alerts:6");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "alerts");
  EXPECT_EQ(a->partitions, 6);
  EXPECT_EQ(parse_topic_spec("x")->partitions, 0);
  EXPECT_FALSE(parse_topic_spec("x:0").ok());
  EXPECT_FALSE(parse_topic_spec("x:abc").ok());
  EXPECT_FALSE(parse_topic_spec(":3").ok());
}

TEST(MockCluster, ProduceConsumeCommitAndLag) {
  BrokerParams params;
  params.port = 0;
  params.partitions = 1;
  auto broker = MockCluster::start(params);
  ASSERT_TRUE(broker.ok()) << broker.error().message;
  KafkaConfig config;
  config.brokers = (*broker)->bootstrap();

  auto producer = Producer::create(config);
  ASSERT_TRUE(producer.ok()) << producer.error().message;
  std::atomic<int> acked{0};
  for (int i = 0; i < 10; ++i) {
    const std::string value = "frame-" + std::to_string(i);
    OutRecord rec;
    rec.topic = "raw_video_frames";
    rec.key = "cam";
    rec.value = {reinterpret_cast<const uint8_t*>(value.data()), value.size()};
    rec.headers = {{"kv.seq", std::to_string(i)}};
    ASSERT_TRUE((*producer)
                    ->produce(rec,
                              [&](const Delivery& d) {
                                EXPECT_TRUE(d.status.ok());
                                EXPECT_EQ(d.partition, 0);
                                acked.fetch_add(1);
                              })
                    .ok());
  }
  ASSERT_TRUE((*producer)->flush(10000).ok());
  EXPECT_EQ(acked.load(), 10);

  auto probe = LagProbe::create(config, "g1", "raw_video_frames");
  ASSERT_TRUE(probe.ok());
  auto lag = (*probe)->lag(0, 5000);
  ASSERT_TRUE(lag.ok()) << lag.error().message;
  EXPECT_EQ(*lag, 10) << "nothing committed yet";

  {
    auto consumer = Consumer::create(config, "g1");
    ASSERT_TRUE(consumer.ok());
    ASSERT_TRUE((*consumer)->subscribe({"raw_video_frames"}).ok());
    int got = 0;
    const Stopwatch sw;
    while (got < 6 && sw.elapsed_ms() < 20000) {
      auto msg = (*consumer)->poll(100);
      ASSERT_TRUE(msg.ok());
      if (!*msg) continue;
      EXPECT_EQ(msg->key(), "cam");
      const auto headers = msg->headers();
      ASSERT_EQ(headers.size(), 1u);
      EXPECT_EQ(headers[0].second, std::to_string(got));
      ASSERT_TRUE((*consumer)->store_offset("raw_video_frames", 0, msg->offset() + 1).ok());
      ++got;
    }
    ASSERT_EQ(got, 6);
    ASSERT_TRUE((*consumer)->commit_sync().ok());
    (*consumer)->close();
  }
  lag = (*probe)->lag(-1, 5000);
  ASSERT_TRUE(lag.ok());
  EXPECT_EQ(*lag, 4) << "6 of 10 committed";

  // A new member of the group resumes after the committed offset: at-least-once, nothing skipped.
  auto again = Consumer::create(config, "g1");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->subscribe({"raw_video_frames"}).ok());
  const Stopwatch sw;
  Message first;
  while (!first && sw.elapsed_ms() < 20000) {
    auto msg = (*again)->poll(100);
    ASSERT_TRUE(msg.ok());
    first = std::move(*msg);
  }
  ASSERT_TRUE(first);
  EXPECT_EQ(first.offset(), 6);
}

TEST(KafkaConfig, UnknownPropertyIsRejectedByName) {
  KafkaConfig config;
  config.overrides = {{"no.such.property", "1"}};
  auto conf = make_conf(config, {});
  ASSERT_FALSE(conf.ok());
  EXPECT_EQ(conf.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(conf.error().message.find("no.such.property"), std::string::npos);
  EXPECT_FALSE(parse_property("novalue").ok());
  EXPECT_EQ(parse_property("a=b=c")->second, "b=c");
}

}  // namespace
}  // namespace kv::kafka
