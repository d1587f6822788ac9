#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "http_get.h"
#include "kafka/cluster_status.h"
#include "metrics/http_server.h"
#include "metrics/registry.h"

namespace kv::metrics {
namespace {

TEST(Registry, RendersTheTextExpositionFormat) {
  Registry r;
  r.counter("kv_frames_total", "Frames", {{"stage", "detect"}, {"camera", "a\"b"}}).inc(3);
  r.gauge("kv_lag", "Lag").set(7);
  Histogram& h = r.histogram("kv_seconds", "Time", {{"step", "infer"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const std::string text = r.render();
  EXPECT_NE(text.find("# HELP kv_frames_total Frames\n# TYPE kv_frames_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("kv_frames_total{stage=\"detect\",camera=\"a\\\"b\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE kv_lag gauge\nkv_lag 7\n"), std::string::npos);
  EXPECT_NE(text.find("kv_seconds_bucket{step=\"infer\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kv_seconds_bucket{step=\"infer\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("kv_seconds_bucket{step=\"infer\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kv_seconds_sum{step=\"infer\"} 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("kv_seconds_count{step=\"infer\"} 3\n"), std::string::npos);
}

TEST(Registry, KeepsLabelCardinalityBounded) {
  Registry r;
  for (size_t i = 0; i < Registry::kMaxSeriesPerFamily + 50; ++i)
    r.counter("kv_total", "x", {{"camera", "cam" + std::to_string(i)}}).inc();
  const std::string text = r.render();
  size_t lines = 0;
  for (size_t pos = 0; (pos = text.find("\nkv_total{", pos)) != std::string::npos; ++pos) ++lines;
  EXPECT_EQ(lines, Registry::kMaxSeriesPerFamily);
  EXPECT_NE(text.find("kv_total{camera=\"_other\"} 51\n"), std::string::npos);
}

TEST(Registry, CollectorsRunAtRenderUntilRemoved) {
  Registry r;
  int runs = 0;
  const auto id = r.on_collect([&] {
    ++runs;
    r.gauge("kv_queue", "q", {{"p", "0"}}).set(runs);
  });
  EXPECT_NE(r.render().find("kv_queue{p=\"0\"} 1\n"), std::string::npos);
  r.remove_collector(id);
  r.remove_gauge("kv_queue", {{"p", "0"}});
  EXPECT_EQ(r.render().find("kv_queue"), std::string::npos);
  EXPECT_EQ(runs, 1);
}

using kv::testing::http_get;

TEST(HttpServer, ServesMetricsHealthAndReadiness) {
  Registry r;
  r.counter("kv_up_total", "up").inc();
  std::atomic<bool> ready{false};
  auto s = HttpServer::start(":0", r, [&] { return ready ? std::string() : "no partitions"; });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->host(), "127.0.0.1");  // loopback unless told otherwise
  const int port = (*s)->port();
  const std::string metrics = http_get(port, "/metrics");
  EXPECT_EQ(metrics.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << metrics;
  EXPECT_NE(metrics.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.find("kv_up_total 1\n"), std::string::npos);
  EXPECT_NE(http_get(port, "/healthz").find("200 OK"), std::string::npos);
  const std::string not_ready = http_get(port, "/readyz");
  EXPECT_NE(not_ready.find("503"), std::string::npos);
  EXPECT_NE(not_ready.find("not ready: no partitions"), std::string::npos);
  ready = true;
  EXPECT_NE(http_get(port, "/readyz").find("200 OK"), std::string::npos);
  EXPECT_NE(http_get(port, "/nope").find("404"), std::string::npos);
}

TEST(HttpServer, RejectsBadAddresses) {
  Registry r;
  EXPECT_FALSE(HttpServer::start("127.0.0.1:99999", r, {}).ok());
  EXPECT_FALSE(HttpServer::start("localhost:9464", r, {}).ok());  // an IPv4 address is needed
  EXPECT_FALSE(HttpServer::start("x", r, {}).ok());
  auto p = parse_listen_address("0.0.0.0:9464");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->first, "0.0.0.0");
  EXPECT_EQ(p->second, 9464);
}

kafka::GroupStatus group(int64_t committed, int64_t end) {
  kafka::GroupStatus g;
  g.group = "g";
  g.partitions.push_back({"t", 0, committed, end, end - committed, "m"});
  g.total_lag = end - committed;
  return g;
}

TEST(StatusVerdict, OkLaggingStalled) {
  EXPECT_EQ(kafka::judge(group(10, 10), group(50, 50), 2).verdict, kafka::Verdict::kOk);
  const auto catching_up = kafka::judge(group(10, 40), group(35, 45), 2);
  EXPECT_EQ(catching_up.verdict, kafka::Verdict::kOk);
  EXPECT_DOUBLE_EQ(catching_up.committed_per_s, 12.5);
  const auto lagging = kafka::judge(group(10, 20), group(14, 40), 2);
  EXPECT_EQ(lagging.verdict, kafka::Verdict::kLagging);
  EXPECT_EQ(lagging.reason, "lag grew from 10 to 26 in 2 s");
  EXPECT_EQ(kafka::judge(group(10, 20), group(10, 20), 2).verdict, kafka::Verdict::kStalled);
  // Growing, but under a second's work: records in flight.
  const auto in_flight = kafka::judge(group(100, 101), group(140, 146), 2);
  EXPECT_EQ(in_flight.verdict, kafka::Verdict::kOk);
  EXPECT_EQ(in_flight.reason, "lag 6 (was 1), keeping up");
}

TEST(StatusVerdict, GroupsJudgedAcrossSnapshots) {
  kafka::ClusterSnapshot before;
  before.taken_us = 1'000'000;
  before.groups = {group(10, 20)};
  before.groups[0].group = "stuck";
  kafka::ClusterSnapshot after;
  after.taken_us = 3'000'000;
  after.groups = {group(10, 20), group(40, 40)};
  after.groups[0].group = "stuck";
  after.groups[1].group = "new";  // absent before: judged against nothing committed
  const kafka::ClusterReport r = kafka::judge_groups(before, after);
  EXPECT_DOUBLE_EQ(r.seconds, 2);
  ASSERT_EQ(r.groups.size(), 2U);
  EXPECT_EQ(r.groups[0].group->group, "stuck");
  EXPECT_EQ(r.groups[0].health.verdict, kafka::Verdict::kStalled);
  EXPECT_EQ(r.groups[1].health.verdict, kafka::Verdict::kOk);
  EXPECT_DOUBLE_EQ(r.groups[1].health.committed_per_s, 20);
  EXPECT_EQ(r.overall, kafka::Verdict::kStalled);  // the worst of them
}

TEST(StatusVerdict, UnderReplicatedPartitionsWhileGroupsKeepUp) {
  auto partition = [](int32_t id, int32_t leader, std::vector<int32_t> isr) {
    return kafka::PartitionStatus{"raw_video_frames", id, 0, 10, leader, {1, 2, 3}, std::move(isr)};
  };
  kafka::ClusterSnapshot before;
  before.taken_us = 1'000'000;
  before.groups = {group(10, 10)};
  kafka::ClusterSnapshot after = before;
  after.taken_us = 3'000'000;
  after.partitions = {partition(0, 1, {1, 2, 3}), partition(1, 2, {2, 3}), partition(2, -1, {})};
  EXPECT_FALSE(after.partitions[0].under_replicated());
  EXPECT_TRUE(after.partitions[1].under_replicated());  // broker 1 out of the ISR
  EXPECT_TRUE(after.partitions[2].under_replicated());  // no leader at all
  kafka::ClusterReport r = kafka::judge_groups(before, after);
  EXPECT_EQ(r.under_replicated, 2);
  EXPECT_EQ(r.overall, kafka::Verdict::kUnderReplicated);
  EXPECT_STREQ(kafka::verdict_name(r.overall), "UNDER_REPLICATED");
  // A stalled group is worse than under-replication, and wins.
  after.groups = {group(10, 20)};
  before.groups = {group(10, 20)};
  EXPECT_EQ(kafka::judge_groups(before, after).overall, kafka::Verdict::kStalled);
  // Every replica back in sync: OK again.
  after.groups = {group(10, 10)};
  after.partitions = {partition(0, 1, {1, 2, 3}), partition(1, 2, {2, 3, 1})};
  EXPECT_EQ(kafka::judge_groups(before, after).overall, kafka::Verdict::kOk);
}

}  // namespace
}  // namespace kv::metrics
