#include <gtest/gtest.h>

#include "wire/detection_record.h"

namespace kv::wire {
namespace {

DetectionRecord sample_record() {
  DetectionRecord r;
  r.frame.camera = "cam1";
  r.frame.seq = 7;
  r.frame.session_us = 11;
  r.frame.stream_pos_ms = 700;
  r.frame.capture_us = 1700000000700000;
  r.frame.width = 768;
  r.frame.height = 576;
  r.source = {"raw_video_frames", 3, 12345};
  r.model = "yolox_nano";
  r.processed_us = 1700000000750000;
  r.timings = {1.5, 2.25, 3.125, 30.5, 0.75};
  r.detections.push_back({0, "person", 0.9125f, {10.5f, 20.25f, 30.0f, 80.5f}});
  r.detections.push_back({16, "dog", 0.5f, {100, 200, 50, 40}});
  return r;
}

TEST(DetectionRecord, RoundTrip) {
  const DetectionRecord in = sample_record();
  auto out = decode_detection_record(encode_detection_record(in));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->frame.camera, "cam1");
  EXPECT_EQ(out->frame.seq, 7);
  EXPECT_EQ(out->frame.capture_us, in.frame.capture_us);
  EXPECT_EQ(out->source.topic, "raw_video_frames");
  EXPECT_EQ(out->source.partition, 3);
  EXPECT_EQ(out->source.offset, 12345);
  EXPECT_EQ(out->model, "yolox_nano");
  EXPECT_DOUBLE_EQ(out->timings.infer_ms, 30.5);
  EXPECT_DOUBLE_EQ(out->timings.preprocess_ms, 3.125);
  ASSERT_EQ(out->detections.size(), 2u);
  EXPECT_EQ(out->detections[0].label, "person");
  EXPECT_EQ(out->detections[0].class_id, 0);
  EXPECT_NEAR(out->detections[0].score, 0.9125, 1e-4);
  EXPECT_NEAR(out->detections[0].box.x, 10.5, 0.05);
  EXPECT_NEAR(out->detections[0].box.h, 80.5, 0.05);
  EXPECT_EQ(out->detections[1].label, "dog");
}

TEST(DetectionRecord, SkippedBeforeIsWrittenOnlyWhenSome) {
  DetectionRecord in = sample_record();
  EXPECT_EQ(encode_detection_record(in).find("skipped_before"), std::string::npos);
  EXPECT_EQ(decode_detection_record(encode_detection_record(in))->skipped_before, 0);
  in.skipped_before = 3;
  auto out = decode_detection_record(encode_detection_record(in));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->skipped_before, 3);
}

TEST(DetectionRecord, IsOneCompactLine) {
  const std::string json = encode_detection_record(sample_record());
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_NE(json.find("\"schema\":2"), std::string::npos);
}

TEST(DetectionRecord, TrackIdsRoundTripAndAreLeftOutWhenNone) {
  DetectionRecord in = sample_record();
  in.detections[0].track_id = 42;
  const std::string json = encode_detection_record(in);
  EXPECT_NE(json.find("\"track\":42"), std::string::npos);
  EXPECT_EQ(json.find("\"track\":0"), std::string::npos);  // the dog is not tracked
  auto out = decode_detection_record(json);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->detections[0].track_id, 42);
  EXPECT_EQ(out->detections[1].track_id, 0);
  std::string bad = json;
  bad.replace(bad.find("\"track\":42"), 10, "\"track\":-1");
  EXPECT_FALSE(decode_detection_record(bad).ok());
}

// A version-1 record, as kvision wrote it before track IDs (docs/wire-format.md's example).
TEST(DetectionRecord, VersionOneStillDecodes) {
  const std::string v1 =
      R"({"camera":"cam1","capture_us":1795551373411058,"detections":[{"box":[688.4,246.2,)"
      R"(44.2,94.7],"class_id":0,"label":"person","score":0.7927}],"height":576,"model":)"
      R"("yolox_nano","pos_ms":0,"processed_us":1795551373501223,"schema":1,"seq":0,)"
      R"("session_us":1795551373400000,"source":{"offset":0,"partition":2,"topic":)"
      R"("raw_video_frames"},"timings_ms":{"decode":3.1,"infer":38.2,"postprocess":0.2,)"
      R"("preprocess":1.0,"queue":0.1},"width":768})";
  auto out = decode_detection_record(v1);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->detections.size(), 1u);
  EXPECT_EQ(out->detections[0].track_id, 0);
  EXPECT_NEAR(out->detections[0].box.x, 688.4, 0.05);
}

TEST(DetectionRecord, MalformedJsonIsAnError) {
  EXPECT_FALSE(decode_detection_record("{not json").ok());
  EXPECT_FALSE(decode_detection_record("{}").ok());
  EXPECT_FALSE(decode_detection_record("[1,2]").ok());
}

TEST(DetectionRecord, BadBoxIsAnError) {
  std::string json = encode_detection_record(sample_record());
  const size_t at = json.find("\"box\":[");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 7, "\"box\":[1,");  // five numbers
  EXPECT_FALSE(decode_detection_record(json).ok());
}

TEST(DetectionRecord, FutureSchemaIsRejected) {
  std::string json = encode_detection_record(sample_record());
  json.replace(json.find("\"schema\":2"), 10, "\"schema\":9");
  EXPECT_FALSE(decode_detection_record(json).ok());
}

}  // namespace
}  // namespace kv::wire

namespace kv::wire {
namespace {

// Regression (found by fuzz_detection_record): numbers of the wrong kind or range were
// converted with undefined behaviour (a float into an int64, a huge double into a float).
TEST(DetectionRecord, NumbersOfTheWrongKindOrRangeAreErrors) {
  const std::string good = encode_detection_record(sample_record());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  EXPECT_FALSE(decode_detection_record(with("\"seq\":7", "\"seq\":1.8e43")).ok());
  EXPECT_FALSE(decode_detection_record(with("\"seq\":7", "\"seq\":7.5")).ok());
  EXPECT_FALSE(decode_detection_record(with("\"width\":768", "\"width\":99999999999")).ok());
  EXPECT_FALSE(decode_detection_record(with("\"box\":[10.5", "\"box\":[6e300")).ok());
  EXPECT_FALSE(decode_detection_record(with("\"score\":0.9125", "\"score\":\"high\"")).ok());
  EXPECT_TRUE(decode_detection_record(good).ok());
}

}  // namespace
}  // namespace kv::wire
