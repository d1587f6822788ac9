// A librdkafka mock cluster of 3 brokers with kvision's topics (replication 3) that injects
// faults on a schedule, for fault tests of the pipeline's at-least-once guarantee:
//   +0 s  every partition's leader moves to another broker
//   +3 s  broker 2 goes down; +6 s it comes back
//   +8 s  the detector group's coordinator moves to broker 3, which goes down; +11 s back up
//   +13 s Produce, Fetch, OffsetCommit and Heartbeat requests fail with injected errors
// Prints "bootstrap <servers>" on stdout, then each fault on stderr as it happens, and
// "chaos done" when the schedule is over. Runs until SIGINT or SIGTERM.
// Usage: mock_chaos [START_DELAY_S]
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "wire/topics.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

constexpr int kBrokers = 3;
constexpr int kPartitions = 4;
// Kafka API keys (librdkafka keeps its RD_KAFKAP_* names internal).
constexpr int16_t kProduce = 0;
constexpr int16_t kFetch = 1;
constexpr int16_t kOffsetCommit = 8;
constexpr int16_t kHeartbeat = 12;

void sleep_s(double s) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
  while (!g_stop && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void say(const char* what) {
  std::fprintf(stderr, "chaos: %s\n", what);
}

void check(rd_kafka_resp_err_t e, const char* what) {
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "chaos: %s failed: %s\n", what, rd_kafka_err2str(e));
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const double start_delay = argc > 1 ? std::atof(argv[1]) : 3.0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "chaos: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, kBrokers);
  if (mc == nullptr) {
    std::fprintf(stderr, "chaos: cannot start the mock cluster\n");
    return 1;
  }
  const std::string raw(kv::wire::kRawFramesTopic);
  const std::string dlq = raw + std::string(kv::wire::kDeadLetterSuffix);
  const std::vector<std::string> topics = {raw, std::string(kv::wire::kProcessedTopic),
                                           std::string(kv::wire::kDetectionsTopic)};
  for (const std::string& t : topics)
    check(rd_kafka_mock_topic_create(mc, t.c_str(), kPartitions, kBrokers), "create topic");
  check(rd_kafka_mock_topic_create(mc, dlq.c_str(), 1, kBrokers), "create topic");
  // The mock has no CreateTopics: the detectors' tracker state topic is made here.
  const std::string state(kv::wire::kTrackerStateTopic);
  check(rd_kafka_mock_topic_create(mc, state.c_str(), kPartitions, kBrokers), "create topic");
  const std::string skipped = raw + std::string(kv::wire::kSkippedSuffix);
  check(rd_kafka_mock_topic_create(mc, skipped.c_str(), 1, kBrokers), "create topic");
  std::printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);

  sleep_s(start_delay);
  if (!g_stop) {
    say("moving every partition's leader to the next broker");
    for (const std::string& t : topics) {
      for (int p = 0; p < kPartitions; ++p)
        check(rd_kafka_mock_partition_set_leader(mc, t.c_str(), p, (p + 1) % kBrokers + 1),
              "set leader");
    }
  }
  sleep_s(3);
  if (!g_stop) {
    say("broker 2 down");
    check(rd_kafka_mock_broker_set_down(mc, 2), "broker down");
  }
  sleep_s(3);
  if (!g_stop) {
    say("broker 2 up");
    check(rd_kafka_mock_broker_set_up(mc, 2), "broker up");
  }
  sleep_s(2);
  if (!g_stop) {
    say("group coordinator -> broker 3, and broker 3 down");
    check(rd_kafka_mock_coordinator_set(mc, "group", "kvision-detect", 3), "coordinator");
    check(rd_kafka_mock_broker_set_down(mc, 3), "broker down");
  }
  sleep_s(3);
  if (!g_stop) {
    say("broker 3 up");
    check(rd_kafka_mock_broker_set_up(mc, 3), "broker up");
  }
  sleep_s(2);
  if (!g_stop) {
    say("injecting request errors (Produce, Fetch, OffsetCommit, Heartbeat)");
    rd_kafka_mock_push_request_errors(mc, kProduce, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    rd_kafka_mock_push_request_errors(mc, kFetch, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                      RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    rd_kafka_mock_push_request_errors(mc, kOffsetCommit, 2,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                      RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
    rd_kafka_mock_push_request_errors(mc, kHeartbeat, 2,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                      RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);
  }
  if (!g_stop) say("chaos done");
  while (!g_stop) sleep_s(1);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
