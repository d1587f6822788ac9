#include "pipeline/ingest.h"

#include <atomic>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/log.h"
#include "kafka/producer.h"
#include "media/fps_sampler.h"
#include "media/frame_source.h"
#include "media/jpeg.h"
#include "metrics/stage_metrics.h"
#include "pipeline/backpressure.h"
#include "wire/frame_headers.h"

namespace kv::pipeline {
namespace {

void draw_progress(const IngestStats& s, int64_t total, bool paused) {
  constexpr int kWidth = 30;
  const double frac =
      total > 0 ? std::min(1.0, static_cast<double>(s.frames_read) / static_cast<double>(total))
                : 0;
  const int filled = static_cast<int>(frac * kWidth);
  const double fps = s.elapsed_s > 0 ? static_cast<double>(s.frames_published) / s.elapsed_s : 0;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r[%s] %3.0f%% %lld/%lld frames read, %lld published, %.1f fps%s   ",
               bar.c_str(), frac * 100, static_cast<long long>(s.frames_read),
               static_cast<long long>(total), static_cast<long long>(s.frames_published), fps,
               paused ? ", waiting for detectors" : "");
  std::fflush(stderr);
}

// Shared with delivery callbacks, which run on the producer's report thread.
struct DeliveryCounters {
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int32_t> partition{-1};
};

Status validate(const IngestParams& p) {
  if (p.camera.empty())
    return make_error(ErrorCode::kInvalidArgument, "camera id must not be empty");
  if (p.jpeg_quality < 1 || p.jpeg_quality > 100) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--jpeg-quality {} is outside 1..100", p.jpeg_quality));
  }
  if (p.fps < 0) return make_error(ErrorCode::kInvalidArgument, "--fps must not be negative");
  return ok_status();
}

// A shared producer is not flushed for one camera: its own frames are waited for.
Status settle(const DeliveryCounters& c, int64_t produced, int timeout_ms) {
  const Stopwatch clock;
  while (c.acked.load() + c.failed.load() < produced) {
    if (clock.elapsed_ms() > timeout_ms) {
      return make_error(ErrorCode::kTimeout,
                        fmt::format("{} frame(s) not acknowledged after {} ms",
                                    produced - c.acked.load() - c.failed.load(), timeout_ms));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ok_status();
}

void sleep_ms(double ms) {
  if (ms > 0)
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(ms * 1000)));
}

// Holds a frame back until it is due: a file played at its own clock (--realtime), or any
// source at a fixed rate (--rate). A paced frame is stamped with the moment it is let through,
// as a live camera would deliver it.
void pace(const IngestParams& p, bool live, media::RawFrame& frame, double first_pos_ms,
          const Stopwatch& clock, int64_t published) {
  if (p.realtime && !live) {
    sleep_ms(frame.pos_ms - first_pos_ms - clock.elapsed_ms());
    frame.capture_us = wall_now_us();
  }
  if (p.rate > 0) {
    sleep_ms(static_cast<double>(published) * 1000.0 / p.rate - clock.elapsed_ms());
    frame.capture_us = wall_now_us();
  }
}

}  // namespace

Result<IngestStats> run_ingest(const IngestParams& p, std::stop_token stop,
                               const IngestHooks& hooks, kafka::Producer* shared) {
  // A live camera's frame is worth little after two seconds: a second or two of buffering is
  // what viewers of a live stream accept, and the next frame is 40-100 ms away.
  constexpr int64_t kLiveStaleAfterMs = 2000;
  if (Status s = validate(p); !s) return s.error();
  media::ReconnectPolicy reconnect;
  reconnect.attempts = p.reconnect_attempts;
  reconnect.keep_trying = p.keep_trying;
  reconnect.io_timeout_ms = p.io_timeout_ms;
  reconnect.stop = stop;
  reconnect.on_link = hooks.on_link;
  auto source = media::FrameSource::open(p.source, reconnect);
  if (!source) return source.error();
  const media::SourceInfo& info = (*source)->info();
  log_info("ingest: {} '{}' {}x{} at {:.2f} fps, {} frames -> topic {} as camera '{}'",
           media::source_kind_name(info.kind), media::redact_uri(info.uri), info.width, info.height,
           info.fps, info.frame_count >= 0 ? std::to_string(info.frame_count) : "unknown", p.topic,
           p.camera);

  const int64_t stale_after_ms =
      p.stale_after_ms >= 0 ? p.stale_after_ms : (info.is_live() ? kLiveStaleAfterMs : 0);
  std::unique_ptr<kafka::Producer> own;
  if (shared == nullptr) {
    auto made = kafka::Producer::create(p.kafka);
    if (!made) return made.error();
    if (Status s = (*made)->connect(p.topic, 30000); !s) return s.error();
    own = std::move(*made);
  }
  kafka::Producer* producer = shared != nullptr ? shared : own.get();
  std::unique_ptr<Backpressure> backpressure;
  if (p.max_lag > 0) {
    auto probe = kafka::LagProbe::create(p.kafka, p.lag_group, p.topic);
    if (!probe) return probe.error();
    backpressure = std::make_unique<Backpressure>(std::move(*probe), p.lag_group, p.max_lag);
  }

  metrics::build_info("ingest", "");
  auto frames = std::make_shared<metrics::FrameCounter>("ingest");  // outlives the producer
  const metrics::HistogramProbe encode_step = metrics::step_probe("ingest", "encode");
  const metrics::ScopedCollector collector(metrics::global(), [producer] {
    metrics::set_producer_queue("ingest", producer->outstanding());
  });

  auto counters = std::make_shared<DeliveryCounters>();
  media::FpsSampler sampler(p.fps);
  IngestStats stats;
  const Stopwatch clock;
  const int64_t session_us = wall_now_us();
  double first_pos_ms = -1;
  int64_t last_draw_us = 0;
  Status source_status;
  int64_t total = info.frame_count;
  if (total > 0 && p.max_frames > 0 && p.fps <= 0) total = std::min(total, p.max_frames);

  auto refresh = [&](bool paused) {
    stats.frames_published = counters->acked.load();
    stats.bytes_published = counters->bytes.load();
    stats.delivery_failures = counters->failed.load();
    stats.elapsed_s = clock.elapsed_ms() / 1000.0;
    const int64_t now = mono_now_us();
    if (p.progress && now - last_draw_us > 100000) {
      draw_progress(stats, total, paused);
      last_draw_us = now;
    }
    if (hooks.on_progress) hooks.on_progress(stats);
  };
  // Frames per second as published, for the sequence numbers a drop skips.
  const double published_fps = p.fps > 0 && info.fps > 0 ? std::min(p.fps, info.fps)
                               : p.fps > 0               ? p.fps
                                                         : info.fps;

  media::RawFrame frame;
  int64_t seq = 0;
  int64_t produced = 0;
  while (!stop.stop_requested() && (p.max_frames <= 0 || produced < p.max_frames)) {
    auto got = (*source)->read(frame);
    if (!got) {
      metrics::count_error("ingest", "source");
      source_status = got.error();
      break;
    }
    if (!*got) break;
    ++stats.frames_read;
    if (frame.gap_ms > 0) {
      const auto missed =
          static_cast<int64_t>(static_cast<double>(frame.gap_ms) * published_fps / 1000.0);
      if (missed > 1) {
        log_warn("ingest: camera '{}' lost {:.1f} s of stream; sequence numbers skip {}", p.camera,
                 frame.gap_ms / 1000.0, missed - 1);
        seq += missed - 1;
      }
    }
    if (!sampler.take(frame.pos_ms)) continue;
    if (first_pos_ms < 0) first_pos_ms = frame.pos_ms;

    pace(p, info.is_live(), frame, first_pos_ms, clock, produced);

    if (backpressure) {
      stats.backpressure_waits += backpressure->admit(
          produced, counters->partition.load(),
          [&] { return produced - counters->acked.load() - counters->failed.load(); }, stop,
          [&] { refresh(true); });
    }

    Stopwatch encode_time;
    auto jpeg = media::encode_jpeg(frame.bgr, p.jpeg_quality);
    encode_step.observe(encode_time.elapsed_ms() / 1000.0);
    if (!jpeg) {
      metrics::count_error("ingest", "encode");
      source_status = jpeg.error();
      break;
    }
    wire::FrameMeta meta;
    meta.camera = p.camera;
    meta.seq = seq;
    meta.session_us = session_us;
    meta.stream_pos_ms = static_cast<int64_t>(frame.pos_ms);
    meta.capture_us = frame.capture_us;
    meta.width = frame.bgr.cols;
    meta.height = frame.bgr.rows;
    meta.stale_after_ms = stale_after_ms;
    kafka::OutRecord rec;
    rec.topic = p.topic;
    rec.key = p.camera;
    rec.value = *jpeg;
    rec.headers = wire::encode_frame_headers(meta);
    rec.timestamp_ms = frame.capture_us / 1000;
    const auto size = static_cast<int64_t>(jpeg->size());
    Status s = producer->produce(
        rec, [counters, frames, size, camera = p.camera](const kafka::Delivery& d) {
          if (d.status.ok()) {
            counters->acked.fetch_add(1);
            counters->bytes.fetch_add(size);
            counters->partition.store(d.partition);
            frames->count(camera, static_cast<size_t>(size));
          } else {
            counters->failed.fetch_add(1);
            metrics::count_delivery_failure("ingest");
            log_error("ingest: {}", d.status.error().message);
          }
        });
    if (!s) {
      source_status = s;
      break;
    }
    ++seq;
    ++produced;
    stats.last_frame_us = frame.capture_us;
    refresh(false);
  }

  const Status flushed = own ? own->flush(30000) : settle(*counters, produced, 30000);
  last_draw_us = 0;
  refresh(false);
  if (p.progress) std::fprintf(stderr, "\n");
  if (!source_status.ok()) {
    return make_error(source_status.error().code,
                      fmt::format("{} ({} frames were published before this)",
                                  source_status.error().message, stats.frames_published));
  }
  if (!flushed.ok()) return flushed.error();
  if (stats.delivery_failures > 0) {
    return make_error(ErrorCode::kKafka, fmt::format("{} of {} frames were not delivered",
                                                     stats.delivery_failures, produced));
  }
  return stats;
}

}  // namespace kv::pipeline
