// The subscriber loop and the stages on it (store, alert, web), in-process against the
// durable broker over TCP: what each stage keeps, and which offsets are committed when.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "alert/alert_stage.h"
#include "alert/engine.h"
#include "broker/broker.h"
#include "kafka/admin.h"
#include "kafka/partition_reader.h"
#include "kafka/producer.h"
#include "pipeline/subscriber.h"
#include "store/detection_store.h"
#include "store/store_stage.h"
#include "web/live_state.h"
#include "web/web_stage.h"
#include "wire/detection_record.h"
#include "wire/frame_headers.h"

namespace kv {
namespace {
namespace fs = std::filesystem;

constexpr int kTimeoutMs = 10000;

// A detection record of camera "cam": frame `seq`, one person.
wire::DetectionRecord result(int64_t seq) {
  wire::DetectionRecord r;
  r.frame.camera = "cam";
  r.frame.session_us = 1;
  r.frame.seq = seq;
  r.frame.capture_us = 1'700'000'000'000'000 + seq * 100'000;
  r.frame.width = 100;
  r.frame.height = 100;
  r.source = {"raw_video_frames", 0, seq};
  r.model = "test";
  r.detections.push_back({0, "person", 0.9f, {40, 40, 10, 20}});
  return r;
}

class StagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kv_stages_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    broker::BrokerConfig config;
    config.data_dir = dir_ / "broker";
    config.server.port = 0;
    config.server.default_partitions = 1;
    auto b = broker::DurableBroker::start(config);
    ASSERT_TRUE(b.ok()) << b.error().message;
    broker_ = std::move(*b);
    kafka_.brokers = broker_->bootstrap();
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }

  void publish(const std::string& topic, const std::string& value, wire::Headers headers = {}) {
    auto p = kafka::Producer::create(kafka_, {{"linger.ms", "0"}});
    ASSERT_TRUE(p.ok());
    kafka::OutRecord r{topic, "cam",
                       std::span(reinterpret_cast<const uint8_t*>(value.data()), value.size()),
                       std::move(headers), 0};
    ASSERT_TRUE(
        (*p)->produce(r, [](const kafka::Delivery& d) { EXPECT_TRUE(d.status.ok()); }).ok());
    ASSERT_TRUE((*p)->flush(kTimeoutMs).ok());
  }
  void publish_result(int64_t seq) {
    publish("detections", wire::encode_detection_record(result(seq)));
  }

  // The group's committed offset on partition 0 of `topic`; -1 when none.
  int64_t committed(const std::string& group, const std::string& topic) {
    auto admin = kafka::Admin::create(kafka_);
    EXPECT_TRUE(admin.ok());
    auto offsets = (*admin)->committed_offsets(group, {{topic, 0}}, kTimeoutMs);
    EXPECT_TRUE(offsets.ok()) << offsets.error().message;
    if (!offsets.ok() || offsets->empty()) return -1;
    return offsets->begin()->second;
  }

  // Runs `stage` as a member of `group` on `topic`, until `max_records` good records or 20 s.
  Result<pipeline::SubscriberStats> run(pipeline::Subscriber& stage, const std::string& group,
                                        const std::string& topic, int64_t max_records) {
    auto consumer = kafka::Consumer::create(kafka_, group);
    if (!consumer) return consumer.error();
    if (Status s = (*consumer)->subscribe({topic}); !s) return s.error();
    std::stop_source stop;
    std::jthread limit([&stop](std::stop_token done) {
      for (int i = 0; i < 200 && !done.stop_requested(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      stop.request_stop();
    });
    return pipeline::run_subscriber(
        **consumer, stage, {.stage = "test", .max_records = max_records}, stop.get_token());
  }

  fs::path dir_;
  std::unique_ptr<broker::DurableBroker> broker_;
  kafka::KafkaConfig kafka_;
};

// A stage that keeps the values it took; `take_error` / `flush_error` make it fail.
class Recorder final : public pipeline::Subscriber {
 public:
  Status take(const kafka::Message& m) override {
    const std::string value(m.value_text());
    if (value == "bad") return make_error(ErrorCode::kDecode, "not a record");
    if (value == take_error) return make_error(ErrorCode::kIo, "cannot keep " + value);
    taken.push_back(value);
    return ok_status();
  }
  Status flush() override {
    if (!flush_error.empty()) return make_error(ErrorCode::kIo, flush_error);
    return ok_status();
  }
  std::vector<std::string> taken;
  std::string take_error;
  std::string flush_error;
};

TEST_F(StagesTest, OffsetsAreStoredOnlyAfterTheStageFlushed) {
  for (const char* v : {"a", "b", "c"}) publish("t", v);
  Recorder failing;
  failing.flush_error = "disk full";
  auto r = run(failing, "g", "t", 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "disk full");
  EXPECT_EQ(failing.taken, (std::vector<std::string>{"a"}));
  EXPECT_EQ(committed("g", "t"), -1) << "nothing was durable, so nothing may be committed";

  Recorder good;  // the next member of the group gets everything again
  r = run(good, "g", "t", 3);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(good.taken, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(committed("g", "t"), 3);
}

TEST_F(StagesTest, BadRecordsArePassedOverAndCommitted) {
  for (const char* v : {"a", "bad", "c"}) publish("t", v);
  Recorder stage;
  auto r = run(stage, "g", "t", 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->records, 2);
  EXPECT_EQ(r->bad_records, 1);
  EXPECT_EQ(stage.taken, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(committed("g", "t"), 3);
}

TEST_F(StagesTest, OtherErrorsStopTheLoopAndKeepWhatWasFlushed) {
  for (const char* v : {"a", "b", "c"}) publish("t", v);
  Recorder stage;
  stage.take_error = "b";
  auto r = run(stage, "g", "t", 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot keep b");
  EXPECT_EQ(committed("g", "t"), 1) << "a was flushed; b and c must be read again";
}

TEST_F(StagesTest, StoreKeepsEachFrameOnceAndSkipsBadRecords) {
  publish_result(0);
  publish("detections", "{not json");
  publish_result(1);
  publish_result(2);
  auto db = store::DetectionStore::open((dir_ / "d.db").string());
  ASSERT_TRUE(db.ok()) << db.error().message;
  store::StoreStage stage(**db, nullptr, {.batch = 2, .batch_ms = 50});
  auto r = run(stage, "store", "detections", 3);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->bad_records, 1);
  EXPECT_EQ(stage.new_frames(), 3);
  EXPECT_EQ(committed("store", "detections"), 4);
  auto rows = (*db)->query({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3U);
  EXPECT_EQ((*rows)[0].object.label, "person");

  store::StoreStage again(**db, nullptr, {});  // read again by another group: nothing new
  r = run(again, "store-2", "detections", 3);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(again.new_frames(), 0);
  EXPECT_EQ((*db)->query({})->size(), 3U);
}

TEST_F(StagesTest, StoreKeepsTheFramesJpegBeforeCommitting) {
  wire::DetectionRecord rec = result(5);
  wire::Headers headers = wire::encode_frame_headers(rec.frame);
  headers.emplace_back(wire::kHdrDetections, wire::encode_detection_record(rec));
  publish("processed_images", "JPEG-5", headers);
  auto db = store::DetectionStore::open((dir_ / "d.db").string());
  ASSERT_TRUE(db.ok());
  auto files = store::FrameFiles::open((dir_ / "frames").string(), {});
  ASSERT_TRUE(files.ok()) << files.error().message;
  store::StoreStage stage(**db, files->get(), {});
  auto r = run(stage, "store", "processed_images", 1);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*files)->files(), 1);
  EXPECT_EQ(committed("store", "processed_images"), 1);
}

TEST_F(StagesTest, AlertsAreAcknowledgedBeforeTheirRecordIsCommitted) {
  publish_result(0);
  publish_result(1);
  auto rules =
      alert::parse_rules("[someone]\nlabels = person\nwhen = present\ncooldown = 1h\n", "t");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  alert::Engine engine(std::move(*rules));
  auto producer = kafka::Producer::create(kafka_);
  ASSERT_TRUE(producer.ok());
  alert::AlertStage stage(engine, **producer, "alerts", nullptr);
  auto r = run(stage, "alert", "detections", 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(committed("alert", "detections"), 2);

  std::vector<std::string> alerts;
  ASSERT_TRUE(kafka::read_to_end(kafka_, "alerts", {}, [&](const kafka::Message& m) {
                alerts.emplace_back(m.value_text());
              }).ok());
  ASSERT_EQ(alerts.size(), 1U) << "one alert, then the cooldown";
  EXPECT_NE(alerts[0].find("\"rule\":\"someone\""), std::string::npos) << alerts[0];
  EXPECT_NE(alerts[0].find("\"camera\":\"cam\""), std::string::npos) << alerts[0];
}

TEST_F(StagesTest, WebShowsTheTailOfEachPartitionAndTheAlerts) {
  for (int64_t seq = 0; seq < 10; ++seq) {
    wire::DetectionRecord rec = result(seq);
    wire::Headers headers = wire::encode_frame_headers(rec.frame);
    headers.emplace_back(wire::kHdrDetections, wire::encode_detection_record(rec));
    publish("processed_images", "JPEG-" + std::to_string(seq), headers);
  }
  publish("alerts", R"({"rule":"r","camera":"cam","time":"t","frame":{},"detections":[]})");
  publish("alerts", "not an alert");

  auto reader = kafka::PartitionReader::create(kafka_, {.name = "web-test"});
  ASSERT_TRUE(reader.ok());
  (*reader)->follow("processed_images", kafka::PartitionStart::tail(3));
  (*reader)->follow("alerts", kafka::PartitionStart::tail(50));
  web::LiveState state;
  web::WebStage stage(state, "alerts");
  std::stop_source stop;
  std::jthread limit([&stop] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    stop.request_stop();
  });
  auto r = pipeline::run_subscriber(**reader, stage, {.stage = "web"}, stop.get_token());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->records, 4) << "the last 3 frames and the alert";
  EXPECT_EQ(r->bad_records, 1);
  EXPECT_EQ((*reader)->followed_partitions(), 1);
  EXPECT_EQ(state.jpeg("cam", 9), "JPEG-9");
  EXPECT_EQ(state.jpeg("cam", 7), "JPEG-7");
  EXPECT_FALSE(state.jpeg("cam", 6).has_value()) << "older than the tail";
  EXPECT_NE(state.alerts_json().find("\"rule\":\"r\""), std::string::npos);
}

TEST_F(StagesTest, ReadToEndReadsEveryRecordOnceWithoutAGroup) {
  for (const char* v : {"a", "b", "c"}) publish("t", v);
  std::vector<std::string> seen;
  ASSERT_TRUE(kafka::read_to_end(kafka_, "t", {}, [&](const kafka::Message& m) {
                seen.emplace_back(m.value_text());
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(kafka::read_to_end(kafka_, "missing", {}, [](const kafka::Message&) {}).error().code,
            ErrorCode::kNotFound);
  EXPECT_TRUE(
      kafka::read_to_end(kafka_, "missing", {.may_be_missing = true}, [](const kafka::Message&) {
      }).ok());
}

}  // namespace
}  // namespace kv
