// kvision bench: how fast the detector runs bare, in a plain one-frame-at-a-time pipeline, and
// in kvision's pipeline with each worker/thread layout, side by side in one run.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "app/cli.h"
#include "app/local_pipeline.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/percentile.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/record.h"
#include "media/frame_source.h"
#include "media/jpeg.h"
#include "metrics/registry.h"
#include "wire/topics.h"

namespace kv::app {
namespace {

struct BenchOptions {
  detect::DetectorParams detector;
  std::string source;
  int frames = 240;    // frames per pipeline measurement
  double seconds = 5;  // per bare-inference layout
  int latency_frames = 150;
  int jpeg_quality = 80;
  int rounds = 3;              // of the back-to-back bare / pipeline comparison
  int cameras = 0;             // > 0: find how many live cameras fit, up to this many
  double camera_fps = 5;       // each camera's rate
  double camera_seconds = 20;  // per trial
};

struct Layout {
  int workers = 1;        // detector instances (threads), each with its own model
  int infer_threads = 1;  // engine threads per inference (intra-op)
  int inter_threads = 1;  // ONNX Runtime: > 1 runs independent graph nodes at once
  std::string text() const {
    return fmt::format("{} worker{} x {} inference thread{}{}", workers, workers > 1 ? "s" : "",
                       infer_threads, infer_threads > 1 ? "s" : "",
                       inter_threads > 1 ? fmt::format(" + {} inter-op", inter_threads) : "");
  }
  std::string key() const { return fmt::format("{}x{}x{}", workers, infer_threads, inter_threads); }
};

// Every layout that uses at most `cores` threads in all; with `inter_op` (ONNX Runtime), also
// one worker with parallel graph execution on 2 inter-op threads and each intra-op count.
std::vector<Layout> layouts(int cores, bool inter_op) {
  std::vector<Layout> out;
  for (int w = 1; w <= cores; ++w) {
    for (int t = 1; w * t <= cores; ++t) out.push_back({w, t, 1});
  }
  if (inter_op && cores >= 2) {
    for (int t = 1; t <= cores; ++t) out.push_back({1, t, 2});
  }
  return out;
}

// Detectors made while it lives use the layout's inter-op setting.
struct InterOpScope {
  explicit InterOpScope(int threads) { detect::set_inter_op_threads(threads); }
  ~InterOpScope() { detect::set_inter_op_threads(1); }
};

Result<std::vector<cv::Mat>> load_frames(const std::string& source, int n) {
  auto src = media::FrameSource::open(source);
  if (!src) return src.error();
  std::vector<cv::Mat> frames;
  media::RawFrame f;
  while (static_cast<int>(frames.size()) < n) {
    auto got = (*src)->read(f);
    if (!got) return got.error();
    if (!*got) break;
    frames.push_back(f.bgr.clone());
  }
  if (frames.empty())
    return make_error(ErrorCode::kDecode, fmt::format("no frames in '{}'", source));
  return frames;
}

struct BareResult {
  double fps = 0;
  double ms_per_frame = 0;  // latency of one detect() call
};

// What bare inference runs on: decoded frames, or the same frames as JPEG bytes that each
// worker decodes first, at the scale the pipeline's detectors decode them (the part of the
// pipeline's per-frame work that no transport can take away).
struct BareInput {
  const std::vector<cv::Mat>* frames = nullptr;
  const std::vector<std::vector<uint8_t>>* jpegs = nullptr;
  size_t size() const { return jpegs != nullptr ? jpegs->size() : frames->size(); }
};

Result<std::vector<std::vector<uint8_t>>> encode_frames(const std::vector<cv::Mat>& frames,
                                                        int quality) {
  std::vector<std::vector<uint8_t>> out;
  for (const cv::Mat& f : frames) {
    auto bytes = media::encode_jpeg(f, quality);
    if (!bytes) return bytes.error();
    out.push_back(std::move(*bytes));
  }
  return out;
}

// Frames straight into `layout.workers` detectors, each in its own thread.
Result<BareResult> bare_rate(const BenchOptions& o, BareInput input, Layout layout) {
  detect::set_inference_threads(layout.infer_threads);
  const InterOpScope inter_op(layout.inter_threads);
  std::vector<std::unique_ptr<detect::Detector>> dets;
  for (int i = 0; i < layout.workers; ++i) {
    auto d = detect::make_detector(o.detector);
    if (!d) return d.error();
    dets.push_back(std::move(*d));
  }
  // One frame through a detector, as bare inference or as the pipeline's decode + inference.
  auto run_one = [&input](detect::Detector& det, size_t k) -> Status {
    if (input.jpegs == nullptr) return Status(det.detect((*input.frames)[k], nullptr));
    auto image = media::decode_jpeg_at_least(
        (*input.jpegs)[k], [&det](cv::Size frame) { return det.source_size_for(frame); }, nullptr);
    if (!image) return image.error();
    return Status(det.detect(*image, nullptr));
  };
  for (auto& d : dets) {
    if (Status s = run_one(*d, 0); !s) return s.error();  // warm-up
  }
  std::atomic<int64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::jthread> threads;
  const Stopwatch clock;
  for (int i = 0; i < layout.workers; ++i) {
    threads.emplace_back([&, i] {
      size_t k = static_cast<size_t>(i);
      while (!stop.load()) {
        (void)run_one(*dets[static_cast<size_t>(i)], k++ % input.size());
        done.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000)));
  stop = true;
  threads.clear();
  const double s = clock.elapsed_ms() / 1000.0;
  const double fps = static_cast<double>(done.load()) / s;
  return BareResult{fps, 1000.0 * layout.workers / fps};
}

// The usual hand-written pipeline: poll one frame, decode it, infer, publish the result and
// wait for the broker's acknowledgement, commit; then the next frame.
Result<double> plain_rate(const BenchOptions& o, int cores) {
  auto broker = LocalBroker::start("durable", "", 0, 1);
  if (!broker) return broker.error();
  kafka::KafkaConfig kafka;
  kafka.brokers = (*broker)->bootstrap();
  pipeline::IngestParams ip;
  ip.kafka = kafka;
  ip.source = o.source;
  ip.max_frames = o.frames;
  ip.jpeg_quality = o.jpeg_quality;
  ip.max_lag = 0;  // the backlog is written first
  auto ingested = pipeline::run_ingest(ip, {});
  if (!ingested) return ingested.error();
  detect::set_inference_threads(cores);
  auto det = detect::make_detector(o.detector);
  if (!det) return det.error();
  auto consumer = kafka::Consumer::create(kafka, "plain-bench");
  if (!consumer) return consumer.error();
  auto producer = kafka::Producer::create(kafka);
  if (!producer) return producer.error();
  if (Status s = (*consumer)->subscribe({std::string(wire::kRawFramesTopic)}); !s) return s.error();
  int64_t n = 0;
  Stopwatch clock;
  Stopwatch idle;
  while (n < ingested->frames_published && idle.elapsed_ms() < 30000) {
    auto m = (*consumer)->poll(100);
    if (!m) return m.error();
    if (!*m) continue;
    if (n == 0) clock = Stopwatch();
    auto image = media::decode_jpeg(m->value());
    if (!image) return image.error();
    auto found = (*det)->detect(*image, nullptr);
    if (!found) return found.error();
    const std::string value = fmt::format("{{\"objects\":{}}}", found->size());
    kafka::OutRecord out{std::string(wire::kDetectionsTopic),
                         "cam0",
                         std::span(reinterpret_cast<const uint8_t*>(value.data()), value.size()),
                         {},
                         0};
    if (Status s = (*producer)->produce(out, [](const kafka::Delivery&) {}); !s) return s.error();
    if (Status s = (*producer)->flush(10000); !s) return s.error();
    (void)(*consumer)->store_offset(std::string(wire::kRawFramesTopic), m->partition(),
                                    m->offset() + 1);
    ++n;
    idle = Stopwatch();
  }
  const double s = clock.elapsed_ms() / 1000.0;
  (*consumer)->close();
  return n > 1 ? static_cast<double>(n - 1) / s : 0.0;
}

constexpr ptrdiff_t kWarmupFrames = 20;  // left out of latency percentiles

struct PipelineResult {
  double fps = 0;  // steady: first to last result
  double p50_ms = 0;
  double p99_ms = 0;
  int threads = 0;
  int infer_threads = 0;
};

// kvision's pipeline with a layout (0s: its defaults), unpaced or paced to `rate`.
// How frames reach the pipeline in a measurement.
enum class Feed {
  kBacklog,  // ingest publishes as fast as it can; throughput counts once it is done, so the
             // detectors work through a backlog (as the plain pipeline's measurement does)
  kLive,     // ingest runs alongside, held back by the lag-based backpressure
  kPaced,    // ingest paced to a rate: for latency
};

// kvision's pipeline with a layout (0s: its defaults).
Result<PipelineResult> pipeline_rate(const BenchOptions& o, Layout layout, int frames, Feed feed,
                                     double rate = 0) {
  std::mutex mu;
  std::vector<double> latency;
  std::vector<int64_t> received;
  LocalPipelineParams lp;
  lp.detector = o.detector;
  lp.threads = layout.workers;
  lp.infer_threads = layout.infer_threads;
  lp.on_record = [&](const wire::DetectionRecord& r, int64_t receive_us) {
    std::lock_guard lock(mu);
    latency.push_back(static_cast<double>(receive_us - r.frame.capture_us) / 1000.0);
    received.push_back(receive_us);
  };
  std::stop_source stop;
  auto p = [&] {
    const InterOpScope inter_op(layout.inter_threads);  // the detectors are made at start
    return LocalPipeline::start(lp, stop.get_token());
  }();
  if (!p) return p.error();
  pipeline::IngestParams ip;
  ip.source = o.source;
  ip.max_frames = frames;
  ip.jpeg_quality = o.jpeg_quality;
  ip.rate = feed == Feed::kPaced ? rate : 0;
  // The backlog is written first; a concurrent or paced feed keeps at most 30 frames ahead,
  // as it always has here, so figures stay comparable across versions.
  ip.max_lag = feed == Feed::kBacklog ? 0 : 30;
  auto ingested = (*p)->ingest(ip, stop.get_token());
  if (!ingested) return ingested.error();
  const int64_t ingest_done_us = wall_now_us();
  if (Status s = (*p)->wait_for(ingested->frames_published, 60, stop.get_token()); !s)
    return s.error();
  PipelineResult r;
  r.threads = (*p)->threads();
  r.infer_threads = (*p)->infer_threads();
  p->reset();
  std::lock_guard lock(mu);
  // Steady throughput: results from the first counted one to the last.
  auto first = received.begin();
  if (feed == Feed::kBacklog) {
    first = std::upper_bound(received.begin(), received.end(), ingest_done_us);
    if (std::distance(first, received.end()) < 10) first = received.begin();
  }
  const auto counted = std::distance(first, received.end());
  const double s = counted > 1 ? static_cast<double>(received.back() - *first) / 1e6 : 0;
  r.fps = s > 0 ? static_cast<double>(counted - 1) / s : 0;
  // Latency after the warm-up: the first frames of fresh workers (first inferences, first
  // fetches) are slower and say nothing about the steady state.
  std::vector<double> steady(
      latency.begin() + std::min<ptrdiff_t>(kWarmupFrames, std::ssize(latency) / 2), latency.end());
  r.p50_ms = percentile(steady, 0.5);
  r.p99_ms = percentile(steady, 0.99);
  return r;
}

struct CamerasResult {
  double p99_ms = 0;
  int64_t results = 0;
  int64_t skipped = 0;  // frames with no result: skipped as stale, or not back in time
  bool fits() const { return p99_ms < 1000 && skipped == 0 && results > 0; }
};

// N live cameras: each publishes the source at camera_fps, paced in real time, as a live
// camera would (frames older than 2 s may be skipped by detectors that fall behind), all at
// once into the default layout.
Result<CamerasResult> cameras_trial(const BenchOptions& o, int n) {
  std::mutex mu;
  std::vector<double> latency;
  CamerasResult r;
  LocalPipelineParams lp;
  lp.detector = o.detector;
  lp.on_record = [&](const wire::DetectionRecord& rec, int64_t receive_us) {
    std::lock_guard lock(mu);
    latency.push_back(static_cast<double>(receive_us - rec.frame.capture_us) / 1000.0);
  };
  std::stop_source stop;
  auto p = LocalPipeline::start(lp, stop.get_token());
  if (!p) return p.error();
  const auto frames = static_cast<int64_t>(o.camera_fps * o.camera_seconds);
  std::vector<std::jthread> cams;
  std::atomic<int64_t> published{0};
  std::mutex err_mu;
  std::optional<Error> error;
  for (int i = 0; i < n; ++i) {
    cams.emplace_back([&, i] {
      pipeline::IngestParams ip;
      ip.source = o.source;
      ip.camera = fmt::format("cam{}", i);
      ip.fps = o.camera_fps;
      ip.rate = o.camera_fps;
      ip.max_frames = frames;
      ip.jpeg_quality = o.jpeg_quality;
      ip.stale_after_ms = 2000;  // a live camera's default
      auto got = (*p)->ingest(ip, stop.get_token());
      if (got) {
        published += got->frames_published;
      } else {
        std::lock_guard lock(err_mu);
        error = got.error();
      }
    });
  }
  cams.clear();
  if (error) return *error;
  // Skipped frames produce no result: wait for what can still come, then count what did.
  (void)(*p)->wait_for(published.load(), 5, stop.get_token());
  p->reset();
  std::lock_guard lock(mu);
  r.results = static_cast<int64_t>(latency.size());
  r.p99_ms = percentile(latency, 0.99);
  r.skipped = published.load() - r.results;
  return r;
}

int run_cameras(const BenchOptions& o, const std::string& engine) {
  std::printf(
      "Live cameras: each %s at %.0f fps, paced in real time, %.0f s; fits when p99 capture -> "
      "result < 1 s and no frame is skipped:\n",
      o.source.c_str(), o.camera_fps, o.camera_seconds);
  int best = 0;
  double best_p99 = 0;
  int lo = 0;              // fits
  int hi = o.cameras + 1;  // does not fit
  int n = 1;
  while (lo + 1 < hi) {
    auto r = cameras_trial(o, n);
    if (!r) return report_error("bench", r.error());
    std::printf("  %2d camera%s  %6lld results  p99 %7.1f ms  skipped %5lld  %s\n", n,
                n > 1 ? "s" : " ", static_cast<long long>(r->results), r->p99_ms,
                static_cast<long long>(r->skipped), r->fits() ? "fits" : "too many");
    std::fflush(stdout);
    if (r->fits()) {
      lo = n;
      best = n;
      best_p99 = r->p99_ms;
    } else {
      hi = n;
    }
    n = hi > o.cameras ? std::min(o.cameras, lo * 2) : (lo + hi) / 2;
    if (n <= lo) n = lo + 1;
  }
  std::printf("  most cameras: %d%s\n", best, best == o.cameras ? " (the most tried)" : "");
  std::printf("CAMERAS engine=%s cameras=%d camera_fps=%.1f p99_ms=%.1f\n", engine.c_str(), best,
              o.camera_fps, best_p99);
  return kExitOk;
}

// Medians of rounds that each measure, back to back, bare inference, bare inference decoding
// every frame from JPEG first, and the pipeline (default layout, backlog): on a shared machine
// whose speed drifts over minutes, only figures taken together make a fair ratio.
struct Rounds {
  double bare = 0;
  double decoding = 0;
  double pipeline = 0;
};

Result<Rounds> alternate(const BenchOptions& o, const std::vector<cv::Mat>& frames,
                         Layout bare_layout) {
  auto jpegs = encode_frames(frames, o.jpeg_quality);
  if (!jpegs) return jpegs.error();
  std::printf(
      "Pipeline against bare inference, %d rounds back to back (bare %s; the same decoding each "
      "frame from JPEG at quality %d first, as the pipeline's detectors do; the pipeline's "
      "default layout):\n",
      o.rounds, bare_layout.text().c_str(), o.jpeg_quality);
  std::vector<double> bare;
  std::vector<double> decoding;
  std::vector<double> pipeline;
  for (int i = 0; i < o.rounds; ++i) {
    auto b = bare_rate(o, {&frames, nullptr}, bare_layout);
    if (!b) return b.error();
    auto d = bare_rate(o, {nullptr, &*jpegs}, bare_layout);
    if (!d) return d.error();
    auto p = pipeline_rate(o, {0, 0}, o.frames, Feed::kBacklog);
    if (!p) return p.error();
    std::printf("  round %d: bare %6.1f fps, with decoding %6.1f fps, pipeline %6.1f fps (%.2f)\n",
                i + 1, b->fps, d->fps, p->fps, b->fps > 0 ? p->fps / b->fps : 0);
    std::fflush(stdout);
    bare.push_back(b->fps);
    decoding.push_back(d->fps);
    pipeline.push_back(p->fps);
  }
  Rounds r{percentile(bare, 0.5), percentile(decoding, 0.5), percentile(pipeline, 0.5)};
  std::printf(
      "  medians: bare %.1f fps, with decoding %.1f fps (%.2f), pipeline %.1f fps (%.2f)\n\n",
      r.bare, r.decoding, r.bare > 0 ? r.decoding / r.bare : 0, r.pipeline,
      r.bare > 0 ? r.pipeline / r.bare : 0);
  return r;
}

int run_bench(const BenchOptions& o) {
  const int cores = available_cores();
  auto frames = load_frames(o.source, 16);
  if (!frames) return report_error("bench", frames.error());
  const cv::Size size = frames->front().size();
  auto probe = detect::make_detector(o.detector);
  if (!probe) return report_error("bench", probe.error());
  const std::string engine = detect::engine_name(**probe);
  probe->reset();
  std::printf("== kvision bench: %s on %s, %dx%d frames of %s, %d cores ==\n\n",
              o.detector.model_path.c_str(), engine.c_str(), size.width, size.height,
              o.source.c_str(), cores);
  if (o.cameras > 0) return run_cameras(o, engine);

  std::printf("Bare inference (decoded frames in memory, tight loop, %.0f s each):\n", o.seconds);
  BareResult best_bare;
  Layout best_bare_layout;
  double single_frame_ms = 0;
  const bool inter_op = engine == "onnxruntime";
  for (const Layout& l : layouts(cores, inter_op)) {
    auto r = bare_rate(o, {&*frames, nullptr}, l);
    if (!r) return report_error("bench", r.error());
    std::printf("  %-46s %7.1f fps  %6.1f ms/frame\n", l.text().c_str(), r->fps, r->ms_per_frame);
    if (l.workers == 1 && (single_frame_ms == 0 || r->ms_per_frame < single_frame_ms))
      single_frame_ms = r->ms_per_frame;
    if (r->fps > best_bare.fps) {
      best_bare = *r;
      best_bare_layout = l;
    }
    std::fflush(stdout);
  }
  std::printf("  best: %s, %.1f fps; one frame alone takes %.1f ms at best\n\n",
              best_bare_layout.text().c_str(), best_bare.fps, single_frame_ms);

  auto plain = plain_rate(o, cores);
  if (!plain) return report_error("bench", plain.error());
  std::printf(
      "Plain pipeline (poll, decode, infer, publish, wait for the ack; one frame at a\n"
      "time, %d inference threads), %d frames through the embedded broker:\n  %.1f fps\n\n",
      cores, o.frames, *plain);
  std::fflush(stdout);

  std::printf(
      "kvision pipeline (ingest -> embedded broker -> detect -> results consumer), %d "
      "frames; detectors working through the backlog, as the plain pipeline does:\n",
      o.frames);
  auto dflt = pipeline_rate(o, {0, 0}, o.frames, Feed::kBacklog);
  if (!dflt) return report_error("bench", dflt.error());
  const Layout default_layout{dflt->threads, dflt->infer_threads};
  std::printf("  %-46s %7.1f fps  (default layout)\n", default_layout.text().c_str(), dflt->fps);
  std::vector<std::pair<Layout, double>> measured = {{default_layout, dflt->fps}};
  PipelineResult best = *dflt;
  Layout best_layout = default_layout;
  for (const Layout& l : layouts(cores, inter_op)) {
    if (l.key() == default_layout.key()) continue;
    auto r = pipeline_rate(o, l, o.frames, Feed::kBacklog);
    if (!r) return report_error("bench", r.error());
    std::printf("  %-46s %7.1f fps\n", l.text().c_str(), r->fps);
    std::fflush(stdout);
    measured.emplace_back(l, r->fps);
    if (r->fps > best.fps) {
      best = *r;
      best_layout = l;
    }
  }
  std::printf("  best: %s, %.1f fps\n", best_layout.text().c_str(), best.fps);
  // The same pipeline on OpenCV DNN, the engine before ONNX Runtime, for the speed-up.
  double opencv_fps = dflt->fps;
  if (engine != "opencv") {
    BenchOptions cv = o;
    cv.detector.engine = "opencv";
    auto r = pipeline_rate(cv, {0, 0}, o.frames, Feed::kBacklog);
    if (!r) return report_error("bench", r.error());
    opencv_fps = r->fps;
    std::printf("  %-46s %7.1f fps  (OpenCV DNN, its default layout)\n",
                Layout{r->threads, r->infer_threads}.text().c_str(), r->fps);
  }
  auto live = pipeline_rate(o, {0, 0}, o.frames, Feed::kLive);
  if (!live) return report_error("bench", live.error());
  std::printf(
      "  with ingest running alongside on the same cores (JPEG encoding included, "
      "default layout): %.1f fps\n\n",
      live->fps);

  auto rounds = alternate(o, *frames, best_bare_layout);
  if (!rounds) return report_error("bench", rounds.error());

  // Each layout paced at 80% of its own capacity: throughput and latency trade off (more
  // workers take more frames at once, each one slower).
  std::printf(
      "Latency at 80%% of capacity, %d frames paced (the first %d are warm-up), capture "
      "-> result consumed:\n",
      o.latency_frames, static_cast<int>(kWarmupFrames));
  PipelineResult lowest;
  lowest.p99_ms = 1e9;
  Layout latency_layout;
  // Paced frames are ingested alongside, on the same cores: 80% of what a layout sustains
  // then (its backlog rate scaled as the default layout's is by ingest alongside).
  const double alongside = dflt->fps > 0 ? std::min(1.0, live->fps / dflt->fps) : 1.0;
  for (const auto& [l, backlog_fps] : measured) {
    const double fps = backlog_fps * alongside;
    auto r = pipeline_rate(o, l, o.latency_frames, Feed::kPaced, 0.8 * fps);
    if (!r) return report_error("bench", r.error());
    std::printf("  %-46s %5.1f fps: p50 %6.1f ms, p99 %6.1f ms\n", l.text().c_str(), 0.8 * fps,
                r->p50_ms, r->p99_ms);
    std::fflush(stdout);
    if (r->p99_ms < lowest.p99_ms) {
      lowest = *r;
      latency_layout = l;
    }
  }
  std::printf("  lowest p99: %s\n\n", latency_layout.text().c_str());

  // What the Prometheus metrics cost: the default layout again with them off, then on.
  metrics::set_enabled(false);
  auto no_metrics = pipeline_rate(o, {0, 0}, o.frames, Feed::kBacklog);
  metrics::set_enabled(true);
  if (!no_metrics) return report_error("bench", no_metrics.error());
  auto with_metrics = pipeline_rate(o, {0, 0}, o.frames, Feed::kBacklog);
  if (!with_metrics) return report_error("bench", with_metrics.error());
  const double metrics_cost = no_metrics->fps > 0 ? 1.0 - with_metrics->fps / no_metrics->fps : 0;
  std::printf("Metrics (default layout, backlog): %.1f fps without, %.1f fps with: cost %.1f%%\n\n",
              no_metrics->fps, with_metrics->fps, 100.0 * metrics_cost);
  const PipelineResult* paced = &lowest;

  const double vs_bare = rounds->bare > 0 ? rounds->pipeline / rounds->bare : 0;
  const double vs_plain = *plain > 0 ? dflt->fps / *plain : 0;
  const double p99_ratio = single_frame_ms > 0 ? paced->p99_ms / single_frame_ms : 0;
  std::printf("Ratios (targets in brackets):\n");
  std::printf(
      "  kvision pipeline (default layout) / best bare inference   %.2f  [>= 0.95]"
      "  (medians of %d rounds)\n",
      vs_bare, o.rounds);
  std::printf("  the same / bare inference with JPEG decoding              %.2f\n",
              rounds->decoding > 0 ? rounds->pipeline / rounds->decoding : 0);
  std::printf("  kvision pipeline (best layout) / best bare inference      %.2f  (the search's)\n",
              best_bare.fps > 0 ? best.fps / best_bare.fps : 0);
  std::printf("  kvision pipeline (default layout) / plain pipeline        %.2f  [>= 1.5]\n",
              vs_plain);
  if (engine != "opencv") {
    std::printf("  kvision pipeline (default layout) / the same on OpenCV DNN %.2f  [>= 2]\n",
                opencv_fps > 0 ? dflt->fps / opencv_fps : 0);
  }
  std::printf("  same, with ingest alongside / best bare inference         %.2f\n",
              best_bare.fps > 0 ? live->fps / best_bare.fps : 0);
  std::printf("  latency p99 at 80%% / one frame's inference time           %.2f  [<= 2]\n",
              p99_ratio);
  std::printf(
      "BENCH engine=%s bare_fps=%.2f plain_fps=%.2f pipeline_fps=%.2f best_pipeline_fps=%.2f "
      "opencv_pipeline_fps=%.2f live_fps=%.2f p99_ms=%.1f single_frame_ms=%.1f "
      "metrics_cost=%.3f best_bare_layout=%s best_pipeline_layout=%s default_layout=%s "
      "bare_decode_fps=%.2f pipeline_vs_bare=%.3f\n",
      engine.c_str(), best_bare.fps, *plain, dflt->fps, best.fps, opencv_fps, live->fps,
      paced->p99_ms, single_frame_ms, metrics_cost, best_bare_layout.key().c_str(),
      best_layout.key().c_str(), default_layout.key().c_str(), rounds->decoding, vs_bare);
  return kExitOk;
}

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Measure detector speed: bare, in a plain pipeline, and in kvision's pipeline "
      "with every worker/thread layout; prints the ratios");
  add_model_options(cmd, o->detector);
  cmd->add_option("--source,-s", o->source, "Video file or image folder to take frames from")
      ->required();
  cmd->add_option("--frames,-n", o->frames, "Frames per pipeline measurement")
      ->capture_default_str()
      ->check(CLI::Range(10, 100000));
  cmd->add_option("--seconds", o->seconds, "Seconds per bare-inference layout")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 600.0));
  cmd->add_option("--latency-frames", o->latency_frames, "Frames for the latency measurement")
      ->capture_default_str()
      ->check(CLI::Range(10, 100000));
  cmd->add_option("--rounds", o->rounds,
                  "Rounds of bare inference, bare with JPEG decoding and the default pipeline "
                  "measured back to back; their medians give the pipeline / bare ratio")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--jpeg-quality,-q", o->jpeg_quality, "JPEG quality of the ingested frames")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--cameras", o->cameras,
                  "Instead: find how many live cameras (the source at --camera-fps each, paced "
                  "in real time) the default layout keeps under 1 s p99 without skipping a "
                  "frame, trying up to this many")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--camera-fps", o->camera_fps, "Each camera's rate for --cameras")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 120.0));
  cmd->add_option("--camera-seconds", o->camera_seconds, "Seconds per --cameras trial")
      ->capture_default_str()
      ->check(CLI::Range(2.0, 3600.0));
  cmd->callback([o, &action] { action = [o] { return run_bench(*o); }; });
}

}  // namespace kv::app
