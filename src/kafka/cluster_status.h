// What `kvision status` shows: a snapshot of a cluster through standard Kafka APIs only
// (metadata, watermarks, group listing and description, committed offsets, the last record of
// each frame partition), and the verdict from two snapshots taken some seconds apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/admin.h"
#include "kafka/config.h"
#include "kafka/partition_reader.h"
#include "wire/camera_health.h"

namespace kv::kafka {

struct PartitionStatus {
  std::string topic;
  int32_t partition = 0;
  int64_t start = 0;              // log start offset
  int64_t end = 0;                // high watermark
  int32_t leader = -1;            // broker id; -1: no leader (offline)
  std::vector<int32_t> replicas;  // assigned replicas, preferred leader first
  std::vector<int32_t> isr;       // in-sync replicas
  // Fewer replicas in sync than assigned (a broker down or behind), or no leader at all.
  bool under_replicated() const { return leader < 0 || isr.size() < replicas.size(); }
};

struct GroupPartitionStatus {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;  // -1: nothing committed
  int64_t end = 0;
  int64_t lag = 0;     // end - committed (end - start without a commit)
  std::string member;  // client id of the owner, "" if unassigned
};

struct GroupStatus {
  std::string group;
  std::string state;
  std::vector<GroupMember> members;
  std::vector<GroupPartitionStatus> partitions;
  int64_t total_lag = 0;
};

// The newest frame of a camera seen on a topic (from the last record of each partition).
struct CameraStatus {
  std::string camera;
  std::string topic;
  int64_t capture_us = 0;
  int64_t seq = 0;
};

// A camera's latest health record (camera_health topic, kvision ingest --cameras).
struct CameraHealthStatus {
  wire::CameraHealth health;
  // The ingest process stopped reporting: no record for several heartbeats, though the camera
  // had neither finished nor been stopped (the process died, or cannot reach the cluster).
  bool silent = false;
};

struct ClusterSnapshot {
  int64_t taken_us = 0;
  std::vector<PartitionStatus> partitions;
  std::vector<GroupStatus> groups;
  std::vector<CameraStatus> cameras;
  std::vector<CameraHealthStatus> camera_health;  // by camera
  // What could not be read this time (e.g. the groups, while a broker is down): shown, and the
  // rest of the snapshot still taken.
  std::vector<std::string> warnings;
};

// Thread-safety: one thread at a time.
class StatusReader {
 public:
  static Result<std::unique_ptr<StatusReader>> create(const KafkaConfig& config);
  // frame_topics: topics whose records carry kvision frame headers (their cameras are shown).
  // health_topic: the cameras' health records (the newest per camera is shown); "": none.
  Result<ClusterSnapshot> snapshot(const std::vector<std::string>& frame_topics, int timeout_ms,
                                   const std::string& health_topic = "");

 private:
  StatusReader() = default;
  void discount_invisible_lag(ClusterSnapshot& s, int timeout_ms);
  void read_camera_health(ClusterSnapshot& s, const std::string& topic, int timeout_ms);
  std::unique_ptr<Admin> admin_;
  // Its client also serves the metadata and the partitions' offsets.
  std::unique_ptr<PartitionReader> reader_;  // single records: the newest frames, after commits
};

// In rising severity. UNDER_REPLICATED: the groups keep up, but some partition has fewer
// replicas in sync than assigned (a broker is down or behind), so one more failure may lose
// availability; reported while it lasts, OK again once every replica has caught up.
enum class Verdict { kOk, kUnderReplicated, kLagging, kStalled };
const char* verdict_name(Verdict v);

struct GroupHealth {
  Verdict verdict = Verdict::kOk;
  int64_t lag_before = 0;
  int64_t lag_after = 0;
  int64_t progress = 0;        // records committed between the snapshots
  double committed_per_s = 0;  // the group's throughput
  std::string reason;
};

// OK: no lag, or lag not growing while the group commits; LAGGING: lag grew; STALLED: lag
// and no commit at all between the snapshots.
GroupHealth judge(const GroupStatus& before, const GroupStatus& after, double seconds);

struct GroupReport {
  const GroupStatus* group;  // in `after`
  GroupHealth health;
};

// Every group of `after` judged against the same group in `before` (a group new since then
// against nothing committed), and the worst verdict of them all.
struct ClusterReport {
  double seconds = 0;  // between the snapshots
  std::vector<GroupReport> groups;
  int under_replicated = 0;  // partitions of `after` with replicas out of sync
  Verdict overall = Verdict::kOk;
};
ClusterReport judge_groups(const ClusterSnapshot& before, const ClusterSnapshot& after);

}  // namespace kv::kafka
