#include "app/local_pipeline.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "app/cli.h"
#include "broker/broker.h"
#include "common/clock.h"
#include "common/log.h"
#include "kafka/mock_cluster.h"
#include "pipeline/sink.h"
#include "wire/topics.h"

namespace kv::app {

LocalBroker::~LocalBroker() {
  durable_.reset();
  mock_.reset();
  std::error_code ec;
  if (!temp_dir_.empty()) std::filesystem::remove_all(temp_dir_, ec);
}

Result<std::unique_ptr<LocalPipeline>> LocalPipeline::start(const LocalPipelineParams& p,
                                                            std::stop_token stop) {
  if (p.exactly_once && p.engine == "mock") {
    return make_error(ErrorCode::kInvalidArgument,
                      "--exactly-once needs the durable engine: librdkafka's mock cluster shows "
                      "aborted and open transactions to read_committed consumers");
  }
  if (p.detectors < 1 || p.detectors > p.partitions) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("detectors must be 1..{} (one partition each at least)", p.partitions));
  }
  std::unique_ptr<LocalPipeline> lp(new LocalPipeline());
  auto broker = LocalBroker::start(p.engine, p.data_dir, p.port, p.partitions);
  if (!broker) return broker.error();
  lp->broker_ = std::move(*broker);
  lp->kafka_ = p.kafka;
  lp->kafka_.brokers = lp->broker_->bootstrap();

  const int cores = available_cores();
  lp->threads_ = p.threads > 0 ? p.threads : cores;
  lp->infer_threads_ =
      p.infer_threads > 0 ? p.infer_threads : std::max(1, cores / (lp->threads_ * p.detectors));
  detect::set_inference_threads(lp->infer_threads_);
  pipeline::DetectStageParams dp;
  dp.detector = p.detector;
  dp.threads = lp->threads_;
  dp.kafka = lp->kafka_;
  dp.exactly_once = p.exactly_once;
  dp.track = p.track;
  for (int i = 0; i < p.detectors; ++i) {
    dp.transactional_id = fmt::format("{}-local-{}", dp.group, i);
    auto stage = pipeline::DetectStage::create(dp);
    if (!stage) return stage.error();
    lp->stages_.push_back(std::move(*stage));
  }
  for (auto& stage : lp->stages_) {
    pipeline::DetectStage* s = stage.get();
    LocalPipeline* self = lp.get();
    lp->member_threads_.emplace_back([s, self, token = lp->members_stop_.get_token()] {
      if (Status st = s->run(token); !st) self->fail("detector", st.error());
    });
  }
  pipeline::SinkParams sp;
  sp.kafka = lp->kafka_;
  sp.group = "kvision-local-sink";
  sp.write_lines = false;
  LocalPipeline* self = lp.get();
  sp.on_record = [self, cb = p.on_record](const wire::DetectionRecord& r, int64_t receive_us) {
    if (cb) cb(r, receive_us);
    self->results_.fetch_add(1);
  };
  sp.on_assigned = [self] { self->sink_ready_ = true; };
  lp->sink_thread_ = std::jthread([sp, self](std::stop_token token) {
    auto st = pipeline::run_sink(sp, token);
    if (!st) self->fail("result consumer", st.error());
  });

  // Start sources only once every consumer owns its partitions, so the first frames do not
  // wait out the group joins (seconds) and distort the figures.
  const Stopwatch joining;
  while (!stop.stop_requested() && joining.elapsed_ms() < 30000) {
    bool ready = lp->sink_ready_.load();
    for (const auto& s : lp->stages_) ready = ready && s->stats().assigned_partitions.load() > 0;
    if (ready) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  log_info(
      "local pipeline: {} broker on {}; {} detector(s) x {} thread(s) x {} inference "
      "thread(s), model {}; joined in {:.1f} s",
      p.engine, lp->kafka_.brokers, p.detectors, lp->threads_, lp->infer_threads_, lp->model_name(),
      joining.elapsed_ms() / 1000.0);
  return lp;
}

LocalPipeline::~LocalPipeline() {
  members_stop_.request_stop();
  member_threads_.clear();  // joins: each member drains, flushes and commits
  if (sink_thread_.joinable()) {
    sink_thread_.request_stop();
    sink_thread_.join();
  }
  stages_.clear();
  broker_.reset();
}

std::string LocalPipeline::model_name() const {
  return stages_.empty() ? std::string() : stages_.front()->model_name();
}

Result<pipeline::IngestStats> LocalPipeline::ingest(pipeline::IngestParams params,
                                                    std::stop_token stop) {
  params.kafka = kafka_;
  std::stop_source either;
  const std::stop_callback on_stop(stop, [&either] { either.request_stop(); });
  const std::stop_callback on_failure(failed_.get_token(), [&either] { either.request_stop(); });
  auto stats = pipeline::run_ingest(params, either.get_token());
  if (auto failed = failure()) return *failed;
  return stats;
}

void LocalPipeline::fail(const std::string& who, const Error& error) {
  log_error("{}: {}", who, error.message);
  std::lock_guard lock(failure_mu_);
  if (!failure_) failure_ = make_error(error.code, fmt::format("{}: {}", who, error.message));
  failed_.request_stop();
}

std::optional<Error> LocalPipeline::failure() const {
  std::lock_guard lock(failure_mu_);
  return failure_;
}

Status LocalPipeline::wait_for(int64_t count, int idle_timeout_s, std::stop_token stop) const {
  int64_t seen = -1;
  Stopwatch since_progress;
  while (!stop.stop_requested()) {
    const int64_t now = results_.load();
    if (now >= count) return ok_status();
    if (auto failed = failure()) return *failed;
    if (now != seen) {
      seen = now;
      since_progress = Stopwatch();
    } else if (since_progress.elapsed_ms() > idle_timeout_s * 1000.0) {
      return make_error(ErrorCode::kTimeout, fmt::format("no results for {} s; {} of {} came out",
                                                         idle_timeout_s, now, count));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return make_error(ErrorCode::kCancelled, "interrupted");
}

int64_t LocalPipeline::bad_records() const {
  int64_t bad = 0;
  for (const auto& s : stages_) bad += s->stats().bad_records.load();
  return bad;
}

Result<std::unique_ptr<LocalBroker>> LocalBroker::start(const std::string& engine,
                                                        const std::string& data_dir, int port,
                                                        int partitions) {
  std::unique_ptr<LocalBroker> b(new LocalBroker());
  if (engine == "mock") {
    kafka::BrokerParams bp;
    bp.port = port;
    bp.partitions = partitions;
    auto mock = kafka::MockCluster::start(bp);
    if (!mock) return mock.error();
    b->mock_ = std::move(*mock);
    b->bootstrap_ = b->mock_->bootstrap();
    return b;
  }
  broker::BrokerConfig config;
  config.server.port = port;
  config.server.default_partitions = partitions;
  if (data_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "kvision-run-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return make_error(ErrorCode::kIo, fmt::format("cannot create a temporary directory '{}': {}",
                                                    pattern, std::strerror(errno)));
    }
    b->temp_dir_ = pattern;
    config.data_dir = pattern;
  } else {
    config.data_dir = data_dir;
  }
  for (std::string_view t : wire::kPipelineTopics)
    config.topics.emplace_back(std::string(t), partitions);
  auto durable = broker::DurableBroker::start(config);
  if (!durable) return durable.error();
  b->durable_ = std::move(*durable);
  b->bootstrap_ = b->durable_->bootstrap();
  return b;
}

}  // namespace kv::app
