// kvision diff: two result streams of the same frames compared frame by frame (a replay with
// another model against the live results, or two models side by side).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"
#include "kafka/config.h"
#include "vlog/time_range.h"
#include "wire/detection_record.h"

namespace kv::vlog {

struct DiffOptions {
  float iou = 0.5f;     // a pair of boxes is the same object at or above this IoU
  float min_score = 0;  // objects below this score are left out of both sides
  int top_frames = 10;  // how many of the most changed frames to list
};

// One object class (by label) over every frame compared.
struct ClassDiff {
  int64_t in_a = 0;
  int64_t in_b = 0;
  int64_t matched = 0;         // same label, IoU >= the threshold
  int64_t added = 0;           // only in B
  int64_t lost = 0;            // only in A
  int64_t relabelled = 0;      // in A as this label, matched in B under another one
  double score_shift_sum = 0;  // B - A, over matched
};

struct FrameChange {
  std::string camera;
  int64_t seq = 0;
  int64_t capture_ms = 0;
  int64_t in_a = 0;
  int64_t in_b = 0;
  int64_t added = 0;
  int64_t lost = 0;
  int64_t relabelled = 0;
  int64_t changes() const { return added + lost + relabelled; }
};

struct DiffReport {
  std::string name_a;
  std::string name_b;
  std::string model_a;  // as the records name it (the newest seen)
  std::string model_b;
  int64_t frames_compared = 0;
  int64_t frames_changed = 0;
  int64_t frames_only_a = 0;  // a result in A with none in B for the frame
  int64_t frames_only_b = 0;
  ClassDiff total;
  double iou_sum = 0;  // over matched pairs (same label)
  std::map<std::string, ClassDiff> classes;
  std::vector<FrameChange> most_changed;  // most changes first, at most top_frames
};

// Matches the objects of one frame: first pairs of the same label by IoU (highest first), then
// what is left across labels (relabelled). Adds them to `report`; returns the frame's change.
FrameChange diff_frame(const wire::DetectionRecord& a, const wire::DetectionRecord& b,
                       const DiffOptions& options, DiffReport& report);

// Every frame of A and B: results are paired by (camera, ingest session, seq); a frame seen
// more than once on one side (an at-least-once redelivery) counts once, the newest result.
class ResultDiff {
 public:
  explicit ResultDiff(DiffOptions options) : options_(options) {}
  void add_a(wire::DetectionRecord record);
  void add_b(wire::DetectionRecord record);
  DiffReport finish(const std::string& name_a, const std::string& name_b);

 private:
  using Key = std::tuple<std::string, int64_t, int64_t>;
  DiffOptions options_;
  std::map<Key, wire::DetectionRecord> a_;
  std::map<Key, wire::DetectionRecord> b_;
};

struct DiffSource {
  kafka::KafkaConfig kafka;
  std::string topic_a;
  std::string topic_b;
  std::string camera;  // empty: every camera
  TimeRange range;     // by the results' timestamps (the frames' capture times)
};
// Reads both topics' results in the range (committed only) and compares them. Records that
// are not results are counted in `unreadable` and left out.
struct TopicDiff {
  DiffReport report;
  RangeScan scan_a;
  RangeScan scan_b;
  int64_t unreadable = 0;
};
Result<TopicDiff> diff_topics(const DiffSource& source, const DiffOptions& options);

// The report for people: totals, per class, the most changed frames with their times.
std::string format_diff(const DiffReport& report);
nlohmann::json diff_json(const DiffReport& report);

}  // namespace kv::vlog
