// Consumer groups for the durable broker: membership, generations and rebalances as Kafka does
// them (JoinGroup -> SyncGroup -> Heartbeat, LeaveGroup, session expiry), and committed offsets,
// which are appended to a file and replayed at start-up.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "broker/fd_io.h"
#include "common/result.h"

namespace kv::broker {

// Kafka error codes of the group APIs.
inline constexpr int16_t kErrIllegalGeneration = 22;
inline constexpr int16_t kErrInconsistentProtocol = 23;
inline constexpr int16_t kErrUnknownMemberId = 25;
inline constexpr int16_t kErrInvalidSessionTimeout = 26;
inline constexpr int16_t kErrRebalanceInProgress = 27;
inline constexpr int16_t kErrCoordinatorNotAvailable = 15;

struct JoinRequest {
  std::string group;
  std::string member_id;  // empty for a new member
  std::string client_id;
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 300000;
  std::string protocol_type;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> protocols;  // name, metadata
};

struct JoinResponse {
  int16_t error = 0;
  int32_t generation = -1;
  std::string protocol;
  std::string leader;
  std::string member_id;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> members;  // leader only: id, metadata
};

struct CommittedOffset {
  int64_t offset = -1;
  std::string metadata;
};

struct GroupSummary {
  std::string group;
  std::string state;
  std::string protocol_type;
  std::string protocol;
  struct Member {
    std::string member_id;
    std::string client_id;
    std::vector<uint8_t> metadata;
    std::vector<uint8_t> assignment;
  };
  std::vector<Member> members;
};

struct GroupLimits {
  int32_t max_rebalance_timeout_ms = 300000;  // a join waits at most this for missing members
  int32_t max_session_timeout_ms = 1800000;
  // Committed offsets are written before they are acknowledged (a broker crash loses none) and
  // fdatasync'ed at least this often, off the coordinator's lock: a slow disk must not hold up
  // heartbeats. 0: synced before each acknowledgement. The broker's --flush-ms sets it.
  int64_t offsets_flush_ms = 1000;
};

// Thread-safety: all methods may be called from any thread; join() and sync() block the
// calling connection until the rebalance step they wait for completes.
class GroupCoordinator {
 public:
  static Result<std::unique_ptr<GroupCoordinator>> open(const std::filesystem::path& data_dir,
                                                        GroupLimits limits = {});
  ~GroupCoordinator();

  JoinResponse join(const JoinRequest& request);
  // Returns the error code and, on success, the member's assignment.
  std::pair<int16_t, std::vector<uint8_t>> sync(
      const std::string& group, int32_t generation, const std::string& member_id,
      const std::vector<std::pair<std::string, std::vector<uint8_t>>>& assignments);
  int16_t heartbeat(const std::string& group, int32_t generation, const std::string& member_id);
  int16_t leave(const std::string& group, const std::string& member_id);

  // generation < 0: a commit from outside the group protocol (always accepted).
  int16_t commit(
      const std::string& group, int32_t generation, const std::string& member_id,
      const std::vector<std::tuple<std::string, int32_t, int64_t, std::string>>& offsets);
  // 0 if the member belongs to the group's current generation (and may commit), else the
  // error commit() would give.
  int16_t check_member(const std::string& group, int32_t generation,
                       const std::string& member_id) const;
  std::optional<CommittedOffset> committed(const std::string& group, const std::string& topic,
                                           int32_t partition) const;
  // Every committed (topic, partition) of the group.
  std::vector<std::pair<std::string, int32_t>> committed_partitions(const std::string& group) const;

  std::vector<std::pair<std::string, std::string>> list_groups() const;  // group, protocol type
  std::optional<GroupSummary> describe(const std::string& group) const;

 private:
  struct Member {
    std::string client_id;
    int32_t session_timeout_ms = 10000;
    int32_t rebalance_timeout_ms = 300000;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> protocols;
    std::vector<uint8_t> assignment;
    int64_t last_seen_ms = 0;
    bool joined = false;  // has a JoinGroup waiting for the current rebalance
  };
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable };
  struct Group {
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;
    std::string protocol;
    std::string leader;
    std::map<std::string, Member> members;
    int64_t rebalance_deadline_ms = 0;
    uint64_t epoch = 0;  // bumped whenever waiters should look again
  };

  GroupCoordinator(std::filesystem::path offsets_path, GroupLimits limits)
      : offsets_path_(std::move(offsets_path)), limits_(limits) {}
  Status replay_offsets();
  void reaper_loop();
  bool sync_offsets_unlocked(std::unique_lock<std::mutex>& lock);
  int16_t check_member_locked(const std::string& group, int32_t generation,
                              const std::string& member_id) const;
  void begin_rebalance(Group& g, int64_t now_ms);
  bool try_complete_join(Group& g, int64_t now_ms);
  static const char* state_name(State s);

  const std::filesystem::path offsets_path_;
  const GroupLimits limits_;
  File offsets_fd_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Group> groups_;
  std::map<std::string, std::map<std::pair<std::string, int32_t>, CommittedOffset>> offsets_;
  uint64_t next_member_ = 1;
  bool offsets_dirty_ = false;
  int64_t offsets_synced_ms_ = 0;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace kv::broker
