#include "pipeline/camera_set.h"

#include <unistd.h>

#include <array>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/clock.h"
#include "common/log.h"
#include "kafka/producer.h"
#include "media/frame_source.h"
#include "metrics/registry.h"

namespace kv::pipeline {
namespace {

using wire::CameraState;

constexpr std::array<CameraState, 4> kStates = {CameraState::kUp, CameraState::kReconnecting,
                                                CameraState::kDown, CameraState::kFinished};

std::string host_id() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) name[0] = '\0';
  return fmt::format("{}:{}", name.data(), ::getpid());
}

CameraState from_link(media::LinkState s) {
  switch (s) {
    case media::LinkState::kUp:
      return CameraState::kUp;
    case media::LinkState::kReconnecting:
      return CameraState::kReconnecting;
    case media::LinkState::kDown:
      return CameraState::kDown;
  }
  return CameraState::kDown;
}

}  // namespace

CameraSet::CameraSet(kafka::Producer& producer, std::string health_topic)
    : producer_(producer),
      health_topic_(std::move(health_topic)),
      host_(host_id()),
      collector_(metrics::global(), [this] {
        for (const auto& h : health()) export_metrics(h, false);
      }) {}

CameraSet::~CameraSet() {
  stop();
}

void CameraSet::stop() {
  for (auto& [_, cam] : cameras_) cam->thread.request_stop();
  for (auto& [_, cam] : cameras_) {
    if (cam->thread.joinable()) cam->thread.join();
  }
}

CameraChanges CameraSet::apply(const std::vector<IngestParams>& cameras) {
  CameraChanges changes = diff_cameras(current_, cameras);
  // Stopping first: a changed camera's old thread is gone before its new one publishes.
  for (const auto& id : changes.removed) remove(id);
  for (const auto& id : changes.changed) {
    auto& cam = *cameras_.at(id);
    cam.thread.request_stop();
    if (cam.thread.joinable()) cam.thread.join();
    std::lock_guard lock(mu_);
    cameras_.erase(id);
  }
  for (const auto& p : cameras) {
    const bool restart = std::find(changes.changed.begin(), changes.changed.end(), p.camera) !=
                         changes.changed.end();
    const bool add =
        std::find(changes.added.begin(), changes.added.end(), p.camera) != changes.added.end();
    if (add || restart) start(p);
  }
  current_ = cameras;
  return changes;
}

void CameraSet::start(const IngestParams& p) {
  auto cam = std::make_unique<Camera>();
  cam->params = p;
  cam->health.camera = p.camera;
  cam->health.source = media::redact_uri(p.source);
  cam->health.state = CameraState::kReconnecting;
  cam->health.reason = "starting";
  cam->health.since_us = wall_now_us();
  cam->health.host = host_;
  Camera* raw = cam.get();
  {
    std::lock_guard lock(mu_);
    cameras_[p.camera] = std::move(cam);
  }
  publish(raw->health);
  raw->thread = std::jthread([this, raw](std::stop_token stop) { run_camera(*raw, stop); });
}

void CameraSet::remove(const std::string& id) {
  auto it = cameras_.find(id);
  if (it == cameras_.end()) return;
  it->second->thread.request_stop();
  if (it->second->thread.joinable()) it->second->thread.join();
  wire::CameraHealth h;
  {
    std::lock_guard lock(mu_);
    h = it->second->health;
    cameras_.erase(it);
  }
  h.state = CameraState::kRemoved;
  h.reason = "removed from the cameras file";
  h.since_us = wall_now_us();
  publish(h);
  export_metrics(h, true);
  log_info("ingest: camera '{}' removed", id);
}

void CameraSet::run_camera(Camera& cam, std::stop_token stop) {
  IngestHooks hooks;
  hooks.on_link = [this, &cam](media::LinkState s, const std::string& why) {
    if (s == media::LinkState::kUp) {
      std::lock_guard lock(mu_);
      if (cam.was_up) ++cam.health.reconnects;  // counted as it happens, in the UP record
      cam.was_up = true;
    }
    set_state(cam, from_link(s), why);
  };
  hooks.on_progress = [this, &cam](const IngestStats& st) {
    bool first_frame = false;
    {
      std::lock_guard lock(mu_);
      cam.health.frames = st.frames_published;
      if (st.last_frame_us > 0) cam.health.last_frame_us = st.last_frame_us;
      first_frame = cam.health.state != CameraState::kUp && st.last_frame_us > 0;
    }
    // Files and folders have no link: the first frame is what puts them UP.
    if (first_frame) set_state(cam, CameraState::kUp, "frames arriving");
  };
  auto stats = run_ingest(cam.params, stop, hooks, &producer_);
  {
    std::lock_guard lock(mu_);
    cam.ended = true;
    cam.failed = !stats && stats.error().code != ErrorCode::kCancelled;
    if (stats) cam.health.frames = stats->frames_published;
  }
  if (stop.stop_requested()) {
    set_state(cam, CameraState::kDown, std::string(wire::kStoppedReason));
  } else if (!stats) {
    log_error("ingest: camera '{}': {}", cam.params.camera, stats.error().message);
    set_state(cam, CameraState::kDown, stats.error().message);
  } else {
    log_info("ingest: camera '{}' finished: {} frames published", cam.params.camera,
             stats->frames_published);
    set_state(cam, CameraState::kFinished, "end of source");
  }
}

void CameraSet::set_state(Camera& cam, CameraState state, const std::string& why) {
  wire::CameraHealth h;
  {
    std::lock_guard lock(mu_);
    if (cam.health.state == state && state != CameraState::kDown) return;
    cam.health.state = state;
    cam.health.reason = why;
    cam.health.since_us = wall_now_us();
    h = cam.health;
  }
  log_info("ingest: camera '{}' is {} ({})", h.camera, wire::camera_state_name(h.state), why);
  publish(h);
}

void CameraSet::publish_health() {
  for (const auto& h : health()) publish(h);
}

std::vector<wire::CameraHealth> CameraSet::health() const {
  std::lock_guard lock(mu_);
  std::vector<wire::CameraHealth> out;
  for (const auto& [_, cam] : cameras_) out.push_back(cam->health);
  return out;
}

size_t CameraSet::running() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(cameras_.begin(), cameras_.end(),
                                           [](const auto& kv) { return !kv.second->ended; }));
}

size_t CameraSet::failed() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(cameras_.begin(), cameras_.end(),
                                           [](const auto& kv) { return kv.second->failed; }));
}

void CameraSet::publish(const wire::CameraHealth& health) {
  if (health_topic_.empty()) return;
  wire::CameraHealth h = health;
  h.updated_us = wall_now_us();
  const std::string json = wire::encode_camera_health(h);
  kafka::OutRecord rec;
  rec.topic = health_topic_;
  rec.key = h.camera;
  rec.value = std::span(reinterpret_cast<const uint8_t*>(json.data()), json.size());
  Status s = producer_.produce(rec, [camera = h.camera](const kafka::Delivery& d) {
    if (!d.status.ok()) {
      log_warn("ingest: health of camera '{}' not published: {}", camera, d.status.error().message);
    }
  });
  if (!s) log_warn("ingest: health of camera '{}' not published: {}", h.camera, s.error().message);
}

void CameraSet::export_metrics(const wire::CameraHealth& h, bool remove) {
  auto& reg = metrics::global();
  for (CameraState s : kStates) {
    const metrics::Labels labels = {{"camera", h.camera},
                                    {"state", std::string(wire::camera_state_name(s))}};
    if (remove) {
      reg.remove_gauge("kvision_camera_state", labels);
    } else {
      reg.gauge("kvision_camera_state",
                "1 for the camera's current state (UP, RECONNECTING, DOWN, FINISHED)", labels)
          .set(h.state == s ? 1 : 0);
    }
  }
  const metrics::Labels camera = {{"camera", h.camera}};
  if (remove) {
    reg.remove_gauge("kvision_camera_last_frame_timestamp_seconds", camera);
    reg.remove_gauge("kvision_camera_reconnects", camera);
    return;
  }
  reg.gauge("kvision_camera_last_frame_timestamp_seconds",
            "Wall time of the camera's last published frame (0: none yet)", camera)
      .set(static_cast<double>(h.last_frame_us) / 1e6);
  reg.gauge("kvision_camera_reconnects", "Drops the camera's stream came back from", camera)
      .set(static_cast<double>(h.reconnects));
}

namespace {

std::filesystem::file_time_type modified(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  return ec ? std::filesystem::file_time_type{} : t;
}

std::string names(const std::vector<std::string>& ids) {
  return ids.empty() ? "-" : fmt::format("{}", fmt::join(ids, ", "));
}

}  // namespace

Status run_cameras_file(const CameraFileRun& run, std::stop_token stop) {
  auto cameras = load_cameras(run.path, run.base);
  if (!cameras) return cameras.error();
  if (cameras->empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: the cameras list is empty", run.path));
  }
  auto producer = kafka::Producer::create(run.base.kafka);
  if (!producer) return producer.error();
  if (Status s = (*producer)->connect(run.base.topic, 30000); !s) return s.error();

  CameraSet set(**producer, run.health_topic);
  set.apply(*cameras);
  log_info("ingest: {} camera(s) from {}; SIGHUP or saving the file applies changes",
           cameras->size(), run.path);
  auto seen = modified(run.path);
  const Stopwatch clock;
  int64_t next_heartbeat = run.heartbeat_ms;
  int64_t next_watch = run.watch_ms;
  while (!stop.stop_requested() && set.running() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = static_cast<int64_t>(clock.elapsed_ms());
    bool reload = run.reload_requested && run.reload_requested();
    if (now >= next_watch) {
      next_watch = now + run.watch_ms;
      const auto m = modified(run.path);
      if (m != seen) {
        seen = m;
        reload = true;
      }
    }
    if (reload) {
      auto next = load_cameras(run.path, run.base);
      if (!next) {
        log_error("ingest: cameras not changed: {}", next.error().message);
      } else {
        const CameraChanges c = set.apply(*next);
        log_info("ingest: {} reloaded: added {}; removed {}; restarted {}; unchanged {}", run.path,
                 names(c.added), names(c.removed), names(c.changed), names(c.unchanged));
      }
    }
    if (now >= next_heartbeat) {
      next_heartbeat = now + run.heartbeat_ms;
      set.publish_health();
    }
  }
  set.stop();
  set.publish_health();
  const size_t failed = set.failed();
  if (Status s = (*producer)->flush(30000); !s) return s;
  if (failed > 0) {
    return make_error(ErrorCode::kIo,
                      fmt::format("{} camera(s) ended in error (see above)", failed));
  }
  return ok_status();
}

}  // namespace kv::pipeline
