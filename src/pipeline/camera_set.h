// Many cameras in one ingest process: each camera reads and publishes on its own thread,
// through one shared producer, and reports its health.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "metrics/registry.h"
#include "pipeline/camera_config.h"
#include "pipeline/ingest.h"
#include "wire/camera_health.h"

namespace kv::kafka {
class Producer;
}

namespace kv::pipeline {

// Thread-safety: apply(), publish_health() and stop() from one thread; health() and the
// counts from any.
class CameraSet {
 public:
  // Frames go through `producer` to each camera's topic; health records to `health_topic`
  // (empty: none are published).
  CameraSet(kafka::Producer& producer, std::string health_topic);
  ~CameraSet();  // stops every camera
  CameraSet(const CameraSet&) = delete;
  CameraSet& operator=(const CameraSet&) = delete;

  // Makes the running cameras those of `cameras`: starts the new ones, stops the removed
  // ones, restarts those whose settings changed and leaves the others streaming untouched.
  CameraChanges apply(const std::vector<IngestParams>& cameras);

  std::vector<wire::CameraHealth> health() const;
  // Cameras still reading (files not finished, streams up or retrying).
  size_t running() const;
  // Cameras that ended with an error (a file that cannot be decoded, a stream given up).
  size_t failed() const;
  // Publishes every camera's health now (a heartbeat; changes are published as they happen).
  void publish_health();
  void stop();

 private:
  struct Camera {
    IngestParams params;
    wire::CameraHealth health;  // guarded by CameraSet::mu_
    bool ended = false;
    bool failed = false;
    bool was_up = false;  // a later UP is a reconnect
    std::jthread thread;  // last: joined first on destruction
  };

  void start(const IngestParams& p);
  void remove(const std::string& id);
  void run_camera(Camera& cam, std::stop_token stop);
  void set_state(Camera& cam, wire::CameraState state, const std::string& why);
  void publish(const wire::CameraHealth& h);
  void export_metrics(const wire::CameraHealth& h, bool remove);

  kafka::Producer& producer_;
  const std::string health_topic_;
  const std::string host_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Camera>> cameras_;  // changed by apply() only
  std::vector<IngestParams> current_;
  const metrics::ScopedCollector collector_;  // the cameras' gauges, fresh at each scrape
};

// kvision ingest --cameras FILE: runs the file's cameras, reloads the file when asked to or
// when it changes (a file that does not parse is reported and the cameras keep running), and
// publishes every camera's health each heartbeat. Returns once no camera is running (every
// file finished) or stop is requested; an error when the file cannot be loaded at start, or
// when cameras ended in error.
struct CameraFileRun {
  std::string path;
  IngestParams base;  // the command line's settings, under the file's
  std::string health_topic;
  int heartbeat_ms = wire::kHealthHeartbeatMs;
  int watch_ms = 1000;                     // how often the file's modification time is checked
  std::function<bool()> reload_requested;  // polled; true: read the file again (SIGHUP)
};
Status run_cameras_file(const CameraFileRun& run, std::stop_token stop);

}  // namespace kv::pipeline
