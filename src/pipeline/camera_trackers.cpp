#include "pipeline/camera_trackers.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace kv::pipeline {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the tracker state record is written little-endian");

constexpr char kMagic[4] = {'K', 'V', 'T', 'S'};
constexpr uint8_t kStateVersion = 1;

class Writer {
 public:
  template <class T>
  void put(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof v);
    std::memcpy(out_.data() + at, &v, sizeof v);
  }
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  template <class T>
  T get() {
    T v{};
    if (in_.size() - at_ < sizeof v) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string text(size_t n) {
    if (in_.size() - at_ < n) {
      ok_ = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(in_.data() + at_), n);
    at_ += n;
    return s;
  }
  bool ok() const { return ok_; }
  size_t left() const { return in_.size() - at_; }

 private:
  std::span<const uint8_t> in_;
  size_t at_ = 0;
  bool ok_ = true;
};

// Each slot: id, class, score, state, confirmed, last frame, then the filter (8 + 64 doubles).
constexpr size_t kSlotBytes = 8 + 4 + 4 + 1 + 1 + 8 + 72 * 8;

std::vector<detect::Detection> to_detections(const wire::DetectionRecord& r) {
  std::vector<detect::Detection> out;
  out.reserve(r.detections.size());
  for (const wire::DetectedObject& d : r.detections)
    out.push_back({d.class_id, d.score, {d.box.x, d.box.y, d.box.w, d.box.h}});
  return out;
}

}  // namespace

std::string encode_track_state(const CameraTrackState& s) {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.put<uint8_t>(kStateVersion);
  w.put<uint16_t>(static_cast<uint16_t>(std::min<size_t>(s.camera.size(), 0xffff)));
  w.bytes(s.camera.data(), std::min<size_t>(s.camera.size(), 0xffff));
  w.put<int32_t>(s.partition);
  w.put<int64_t>(s.session_us);
  w.put<int64_t>(s.seq);
  w.put<int64_t>(s.tracker.frame);
  w.put<int64_t>(s.tracker.next_id);
  w.put<uint32_t>(static_cast<uint32_t>(s.tracker.slots.size()));
  for (const track::TrackerSnapshot::Slot& t : s.tracker.slots) {
    w.put<int64_t>(t.id);
    w.put<int32_t>(t.class_id);
    w.put<float>(t.score);
    w.put<uint8_t>(static_cast<uint8_t>(t.state));
    w.put<uint8_t>(t.confirmed ? 1 : 0);
    w.put<int64_t>(t.last_frame);
    for (double v : t.filter.x) w.put<double>(v);
    for (double v : t.filter.p) w.put<double>(v);
  }
  return w.take();
}

Result<CameraTrackState> decode_track_state(std::span<const uint8_t> value) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("bad tracker state record ({} bytes): {}", value.size(), why));
  };
  Reader r(value);
  if (r.text(4) != std::string(kMagic, 4)) return bad("no KVTS magic");
  const auto version = r.get<uint8_t>();
  if (version != kStateVersion) return bad(fmt::format("unsupported version {}", version));
  CameraTrackState s;
  s.camera = r.text(r.get<uint16_t>());
  s.partition = r.get<int32_t>();
  s.session_us = r.get<int64_t>();
  s.seq = r.get<int64_t>();
  s.tracker.frame = r.get<int64_t>();
  s.tracker.next_id = r.get<int64_t>();
  const auto n = r.get<uint32_t>();
  if (!r.ok()) return bad("truncated header");
  if (r.left() != size_t{n} * kSlotBytes) return bad(fmt::format("{} tracks do not fit", n));
  for (uint32_t i = 0; i < n; ++i) {
    track::TrackerSnapshot::Slot t;
    t.id = r.get<int64_t>();
    t.class_id = r.get<int32_t>();
    t.score = r.get<float>();
    const auto state = r.get<uint8_t>();
    if (state > 1) return bad(fmt::format("unknown track state {}", state));
    t.state = static_cast<track::TrackerSnapshot::State>(state);
    t.confirmed = r.get<uint8_t>() != 0;
    t.last_frame = r.get<int64_t>();
    for (double& v : t.filter.x) v = r.get<double>();
    for (double& v : t.filter.p) v = r.get<double>();
    if (t.id < 1 || t.id >= s.tracker.next_id) return bad(fmt::format("track ID {}", t.id));
    s.tracker.slots.push_back(t);
  }
  if (s.camera.empty() || s.tracker.next_id < 1) return bad("no camera or IDs");
  return s;
}

std::string CameraTrackers::apply(wire::DetectionRecord& record) {
  const std::lock_guard lock(mu_);
  const wire::FrameMeta& f = record.frame;
  auto it = cameras_.find(f.camera);
  if (it == cameras_.end()) {
    it = cameras_.emplace(f.camera, Camera{0, f.session_us, -1, track::ByteTracker(params_)}).first;
  }
  Camera& cam = it->second;
  cam.partition = record.source.partition;
  const std::vector<detect::Detection> dets = to_detections(record);
  std::vector<track::Track> tracks;
  if (f.session_us == cam.session_us && f.seq <= cam.seq) {
    tracks = cam.tracker.label(dets);  // a redelivery: the tracker has seen it
  } else {
    if (f.session_us != cam.session_us) {
      // A new ingest session: new tracks, IDs counting on.
      track::TrackerSnapshot fresh;
      fresh.next_id = cam.tracker.snapshot().next_id;
      cam.tracker = track::ByteTracker(params_, fresh);
      cam.session_us = f.session_us;
    }
    tracks = cam.tracker.update(dets);
    cam.seq = f.seq;
  }
  for (wire::DetectedObject& d : record.detections) d.track_id = 0;
  for (const track::Track& t : tracks) {
    if (t.detection >= 0 && static_cast<size_t>(t.detection) < record.detections.size())
      record.detections[static_cast<size_t>(t.detection)].track_id = t.id;
  }
  return encode_track_state(
      {f.camera, cam.partition, cam.session_us, cam.seq, cam.tracker.snapshot()});
}

Status CameraTrackers::restore(std::span<const uint8_t> value) {
  auto s = decode_track_state(value);
  if (!s) return s.error();
  const std::lock_guard lock(mu_);
  cameras_.insert_or_assign(s->camera, Camera{s->partition, s->session_us, s->seq,
                                              track::ByteTracker(params_, s->tracker)});
  return ok_status();
}

void CameraTrackers::forget(const std::vector<int32_t>& partitions) {
  const std::lock_guard lock(mu_);
  std::erase_if(cameras_, [&](const auto& kv) {
    return std::find(partitions.begin(), partitions.end(), kv.second.partition) != partitions.end();
  });
}

void CameraTrackers::clear() {
  const std::lock_guard lock(mu_);
  cameras_.clear();
}

size_t CameraTrackers::cameras() const {
  const std::lock_guard lock(mu_);
  return cameras_.size();
}

}  // namespace kv::pipeline
