#include "pipeline/detect_stage.h"

#include <thread>

#include <fmt/format.h>

#include "common/bounded_queue.h"
#include "common/clock.h"
#include "common/log.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "media/jpeg.h"
#include "pipeline/dead_letter.h"
#include "pipeline/offset_tracker.h"
#include "wire/detection_record.h"
#include "wire/topics.h"

namespace kv::pipeline {
namespace {

struct WorkItem {
  kafka::MessagePtr msg;
  int64_t enqueued_us = 0;
};

// The outputs of one input record still waiting for their acknowledgements.
struct PendingOutputs {
  explicit PendingOutputs(int n) : remaining(n) {}
  std::atomic<int> remaining;
  std::atomic<bool> failed{false};
};

// How long a rebalance or shutdown waits for in-flight frames before giving up on them.
constexpr int kDrainTimeoutMs = 60000;

}  // namespace

class DetectStage::Impl final : public kafka::RebalanceListener {
 public:
  Impl(DetectStageParams params, std::vector<std::unique_ptr<detect::Detector>> detectors)
      : params_(std::move(params)),
        detectors_(std::move(detectors)),
        queue_(2 * detectors_.size()) {}

  Status run(std::stop_token stop);
  const std::string& model_name() const { return detectors_.front()->name(); }

  void on_assigned(const std::vector<kafka::TopicPartition>& parts) override {
    stats.assigned_partitions.fetch_add(static_cast<int>(parts.size()));
  }
  void on_revoking(const std::vector<kafka::TopicPartition>& parts) override {
    stats.assigned_partitions.fetch_sub(static_cast<int>(parts.size()));
    // Everything taken from the revoked partitions finishes (and stores its offset) first, so
    // the commit that follows covers it and the next owner does not redo it.
    if (!tracker_.wait_idle(kDrainTimeoutMs)) {
      log_warn(
          "detect: {} frames still in flight at rebalance; they will be processed again by the "
          "next owner",
          tracker_.in_flight());
    }
  }

  DetectStats stats;

 private:
  void worker_loop(detect::Detector& detector);
  void process(detect::Detector& detector, WorkItem item);
  void reject(const rd_kafka_message_t* msg, const std::string& stage, const std::string& error);
  // Called once all outputs of an input record are acknowledged.
  void finish(const kafka::TopicPartition& tp, int64_t offset);
  kafka::Producer::DeliveryFn on_output(std::shared_ptr<PendingOutputs> pending,
                                        kafka::TopicPartition tp, int64_t offset, bool dead_letter);

  DetectStageParams params_;
  std::vector<std::unique_ptr<detect::Detector>> detectors_;
  BoundedQueue<WorkItem> queue_;
  OffsetTracker tracker_;
  // Declared before the producer so it outlives it: delivery reports that arrive while the
  // producer is destroyed still store their offsets through the consumer.
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::Producer> producer_;
  std::atomic<bool> failed_{false};
};

Status DetectStage::Impl::run(std::stop_token stop) {
  auto producer = kafka::Producer::create(params_.kafka);
  if (!producer) return producer.error();
  producer_ = std::move(*producer);
  for (const std::string& topic : {params_.processed_topic, params_.detections_topic}) {
    if (Status s = producer_->connect(topic, 30000); !s) return s;
  }
  auto consumer = kafka::Consumer::create(params_.kafka, params_.group, {}, this);
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  if (Status s = consumer_->subscribe({params_.input_topic}); !s) return s;
  log_info("detect: group '{}' on {}, model {}, {} worker thread(s)", params_.group,
           params_.input_topic, model_name(), detectors_.size());

  std::vector<std::jthread> workers;
  for (auto& d : detectors_) workers.emplace_back([this, &d] { worker_loop(*d); });

  Status result;
  while (!stop.stop_requested() && !failed_.load()) {
    auto msg = consumer_->poll(100);
    if (!msg) {
      result = msg.error();
      break;
    }
    if (!*msg) continue;
    stats.consumed.fetch_add(1);
    if (!tracker_.begin({kafka::message_topic(msg->get()), (*msg)->partition}, (*msg)->offset))
      continue;
    WorkItem item{std::move(*msg), mono_now_us()};
    queue_.push(item);
  }

  // Orderly stop: finish what was taken, wait for the acknowledgements, then commit and leave.
  queue_.close();
  workers.clear();
  if (Status s = producer_->flush(30000); !s) log_error("detect: {}", s.error().message);
  if (!tracker_.wait_idle(5000)) {
    log_warn("detect: {} frames unacknowledged at shutdown; their offsets stay uncommitted",
             tracker_.in_flight());
  }
  consumer_->close();
  if (failed_.load() && result.ok()) {
    result = make_error(ErrorCode::kKafka,
                        "results could not be delivered; uncommitted frames will be redelivered");
  }
  return result;
}

void DetectStage::Impl::worker_loop(detect::Detector& detector) {
  while (auto item = queue_.pop()) process(detector, std::move(*item));
}

void DetectStage::Impl::finish(const kafka::TopicPartition& tp, int64_t offset) {
  if (auto next = tracker_.complete(tp, offset)) {
    if (Status s = consumer_->store_offset(tp.topic, tp.partition, *next); !s) {
      log_debug("detect: {}", s.error().message);  // the partition was revoked meanwhile
    }
  }
}

kafka::Producer::DeliveryFn DetectStage::Impl::on_output(std::shared_ptr<PendingOutputs> pending,
                                                         kafka::TopicPartition tp, int64_t offset,
                                                         bool dead_letter) {
  return [this, pending = std::move(pending), tp = std::move(tp), offset,
          dead_letter](const kafka::Delivery& d) {
    if (!d.status.ok()) {
      pending->failed = true;
      stats.delivery_failures.fetch_add(1);
      log_error("detect: {}", d.status.error().message);
      failed_ = true;
    }
    if (pending->remaining.fetch_sub(1) != 1 || pending->failed.load()) return;
    (dead_letter ? stats.dead_lettered : stats.processed).fetch_add(1);
    finish(tp, offset);
  };
}

void DetectStage::Impl::reject(const rd_kafka_message_t* msg, const std::string& stage,
                               const std::string& error) {
  stats.bad_records.fetch_add(1);
  const std::string topic = kafka::message_topic(msg);
  log_warn("detect: skipping {}[{}]@{} ({} stage): {}; sent to {}{}", topic, msg->partition,
           msg->offset, stage, error, topic, wire::kDeadLetterSuffix);
  auto pending = std::make_shared<PendingOutputs>(1);
  Status s =
      dead_letter(*producer_, msg, stage, error,
                  on_output(pending, {topic, msg->partition}, msg->offset, /*dead_letter=*/true));
  if (!s) {
    log_error("detect: {}", s.error().message);
    failed_ = true;
  }
}

void DetectStage::Impl::process(detect::Detector& detector, WorkItem item) {
  const rd_kafka_message_t* m = item.msg.get();
  wire::DetectionRecord rec;
  rec.timings.queue_ms = static_cast<double>(mono_now_us() - item.enqueued_us) / 1000.0;
  const wire::Headers headers = kafka::message_headers(m);
  auto meta = wire::decode_frame_headers(headers);
  if (!meta) return reject(m, "headers", meta.error().message);
  Stopwatch sw;
  // Decoded only as large as the model can use (libjpeg scales inside the IDCT); the boxes
  // are scaled back to the frame.
  cv::Size original;
  auto image = media::decode_jpeg_at_least(
      kafka::message_value(m), [&](cv::Size frame) { return detector.source_size_for(frame); },
      &original);
  if (!image) return reject(m, "decode", image.error().message);
  rec.timings.decode_ms = sw.lap_ms();
  detect::DetectTimings dt;
  auto dets = detector.detect(*image, &dt);
  if (!dets) return reject(m, "infer", dets.error().message);
  const float sx = static_cast<float>(original.width) / static_cast<float>(image->cols);
  const float sy = static_cast<float>(original.height) / static_cast<float>(image->rows);
  for (detect::Detection& d : *dets) {
    d.box = cv::Rect2f(d.box.x * sx, d.box.y * sy, d.box.width * sx, d.box.height * sy);
  }

  rec.frame = std::move(*meta);
  rec.frame.width = original.width;
  rec.frame.height = original.height;
  rec.source = {kafka::message_topic(m), m->partition, m->offset};
  rec.model = detector.name();
  rec.timings.preprocess_ms = dt.preprocess_ms;
  rec.timings.infer_ms = dt.infer_ms;
  rec.timings.postprocess_ms = dt.postprocess_ms;
  for (const detect::Detection& d : *dets) {
    rec.detections.push_back({d.class_id,
                              detector.label(d.class_id),
                              d.score,
                              {d.box.x, d.box.y, d.box.width, d.box.height}});
  }
  rec.processed_us = wall_now_us();
  const std::string json = wire::encode_detection_record(rec);

  const kafka::TopicPartition tp{rec.source.topic, m->partition};
  auto pending = std::make_shared<PendingOutputs>(2);
  kafka::OutRecord processed;
  processed.topic = params_.processed_topic;
  processed.key = rec.frame.camera;
  processed.value = kafka::message_value(m);
  processed.headers = headers;
  processed.headers.emplace_back(wire::kHdrDetections, json);
  processed.timestamp_ms = rec.frame.capture_us / 1000;
  kafka::OutRecord detections;
  detections.topic = params_.detections_topic;
  detections.key = rec.frame.camera;
  detections.value = {reinterpret_cast<const uint8_t*>(json.data()), json.size()};
  detections.timestamp_ms = processed.timestamp_ms;
  for (const kafka::OutRecord* out : {&processed, &detections}) {
    if (Status s = producer_->produce(*out, on_output(pending, tp, m->offset, false)); !s) {
      log_error("detect: {}", s.error().message);
      failed_ = true;
      return;
    }
  }
}

Result<std::unique_ptr<DetectStage>> DetectStage::create(const DetectStageParams& params) {
  if (params.threads < 1) return make_error(ErrorCode::kInvalidArgument, "--threads must be >= 1");
  std::vector<std::unique_ptr<detect::Detector>> detectors;
  for (int i = 0; i < params.threads; ++i) {
    auto d = detect::make_detector(params.detector);
    if (!d) return d.error();
    detectors.push_back(std::move(*d));
  }
  return std::unique_ptr<DetectStage>(
      new DetectStage(std::make_unique<Impl>(params, std::move(detectors))));
}

DetectStage::DetectStage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DetectStage::~DetectStage() = default;
Status DetectStage::run(std::stop_token stop) {
  return impl_->run(std::move(stop));
}
const DetectStats& DetectStage::stats() const {
  return impl_->stats;
}
const std::string& DetectStage::model_name() const {
  return impl_->model_name();
}

}  // namespace kv::pipeline
