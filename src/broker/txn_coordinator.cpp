#include "broker/txn_coordinator.h"

#include <atomic>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "broker/fd_io.h"
#include "common/clock.h"
#include "common/log.h"

namespace kv::broker {
namespace fs = std::filesystem;

namespace {

constexpr int16_t kErrInvalidRequest = 42;

}  // namespace

Result<std::unique_ptr<TxnCoordinator>> TxnCoordinator::open(const fs::path& data_dir,
                                                             TopicStore& store,
                                                             GroupCoordinator& groups,
                                                             int32_t max_timeout_ms) {
  std::unique_ptr<TxnCoordinator> c(
      new TxnCoordinator(data_dir / "__transactions", store, groups, max_timeout_ms));
  if (Status s = c->load(); !s) return s.error();
  c->recover();
  return c;
}

// One line per transactional id: "<producer id> <epoch> <timeout ms> <transactional id>".
Status TxnCoordinator::load() {
  std::ifstream in(path_);
  if (!in) return ok_status();  // a new data directory
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream fields(line);
    Txn t;
    std::string id;
    fields >> t.pid >> t.epoch >> t.timeout_ms;
    if (!fields || fields.get() != ' ' || !std::getline(fields, id) || id.empty()) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("'{}' line {} is not '<producer id> <epoch> <timeout> <id>'",
                                    path_.string(), line_no));
    }
    txns_[id] = std::move(t);
  }
  return ok_status();
}

Status TxnCoordinator::persist_locked() {
  std::string content;
  for (const auto& [id, t] : txns_) {
    content += fmt::format("{} {} {} {}\n", t.pid, t.epoch, t.timeout_ms, id);
  }
  return replace_file(path_, content);
}

void TxnCoordinator::recover() {
  std::lock_guard lock(mu_);
  std::map<int64_t, Txn*> by_pid;
  for (auto& [id, t] : txns_) by_pid[t.pid] = &t;
  std::set<int64_t> fenced;
  int aborted = 0;
  for (const std::string& topic : store_.topic_names()) {
    for (int p = 0; p < store_.partition_count(topic); ++p) {
      std::shared_ptr<PartitionLog> log = store_.partition(topic, p);
      if (log == nullptr) continue;
      for (auto [pid, epoch] : log->open_transactions()) {
        auto it = by_pid.find(pid);
        if (it != by_pid.end()) {
          // The producer is fenced: its next request finds a newer epoch.
          if (fenced.insert(pid).second) bump_epoch(*it->second);
          epoch = it->second->epoch;
        }
        if (auto r = log->append_marker(pid, epoch, /*commit=*/false); !r) {
          log_error("broker: cannot abort producer {}'s transaction on {}[{}]: {}", pid, topic, p,
                    r.error().message);
        } else {
          ++aborted;
        }
      }
    }
  }
  if (aborted > 0) {
    log_warn("broker: aborted {} transaction part(s) left open by the previous run", aborted);
    stats_.aborted += aborted;
    if (Status s = persist_locked(); !s) log_error("broker: {}", s.error().message);
  }
}

void TxnCoordinator::bump_epoch(Txn& txn) {
  if (txn.epoch >= INT16_MAX - 1) {
    txn.pid = new_producer_id();
    txn.epoch = 0;
  } else {
    ++txn.epoch;
  }
}

ProducerIdentity TxnCoordinator::init_producer(const std::string& txn_id, int32_t timeout_ms) {
  if (txn_id.empty() || txn_id.find('\n') != std::string::npos) return {kErrInvalidRequest};
  if (timeout_ms <= 0 || timeout_ms > max_timeout_ms_) return {kErrInvalidTransactionTimeout};
  std::lock_guard lock(mu_);
  auto [it, created] = txns_.try_emplace(txn_id);
  Txn& t = it->second;
  if (created) {
    t.pid = new_producer_id();
    t.epoch = 0;
  } else {
    bump_epoch(t);
    if (t.open) {
      log_info("broker: transactional id '{}' re-initialised; aborting its open transaction",
               txn_id);
      finish_locked(t, /*commit=*/false);
      ++stats_.aborted;
    }
  }
  t.timeout_ms = timeout_ms;
  if (Status s = persist_locked(); !s) {
    log_error("broker: {}", s.error().message);
    return {kErrCoordinatorNotAvailable};
  }
  return {0, t.pid, t.epoch};
}

int16_t TxnCoordinator::check_locked(const std::string& txn_id, int64_t pid, int16_t epoch,
                                     Txn** txn) {
  auto it = txns_.find(txn_id);
  if (it == txns_.end() || it->second.pid != pid) return kErrInvalidProducerIdMapping;
  if (it->second.epoch != epoch) return kErrInvalidProducerEpoch;
  *txn = &it->second;
  return 0;
}

int16_t TxnCoordinator::add_partitions(
    const std::string& txn_id, int64_t pid, int16_t epoch,
    const std::vector<std::pair<std::string, int32_t>>& partitions) {
  std::lock_guard lock(mu_);
  Txn* t = nullptr;
  if (int16_t e = check_locked(txn_id, pid, epoch, &t); e != 0) return e;
  for (const auto& [topic, partition] : partitions) {
    if (store_.partition(topic, partition) == nullptr) return kErrUnknownTopicOrPartition;
  }
  if (!t->open) {
    t->open = true;
    t->started_ms = mono_now_ms();
  }
  t->partitions.insert(partitions.begin(), partitions.end());
  return 0;
}

int16_t TxnCoordinator::add_offsets(const std::string& txn_id, int64_t pid, int16_t epoch,
                                    const std::string& group) {
  std::lock_guard lock(mu_);
  Txn* t = nullptr;
  if (int16_t e = check_locked(txn_id, pid, epoch, &t); e != 0) return e;
  if (!t->open) {
    t->open = true;
    t->started_ms = mono_now_ms();
  }
  t->groups.insert(group);
  return 0;
}

int16_t TxnCoordinator::commit_offsets(const std::string& txn_id, int64_t pid, int16_t epoch,
                                       const std::string& group, int32_t generation,
                                       const std::string& member_id,
                                       const std::vector<TxnOffset>& offsets) {
  std::lock_guard lock(mu_);
  Txn* t = nullptr;
  if (int16_t e = check_locked(txn_id, pid, epoch, &t); e != 0) return e;
  if (!t->open || t->groups.count(group) == 0) return kErrInvalidTxnState;
  if (generation >= 0) {
    // KIP-447: a member that lost its partitions in a rebalance must not commit them.
    if (int16_t e = groups_.check_member(group, generation, member_id); e != 0) return e;
  }
  std::vector<TxnOffset>& held = t->offsets[group];
  held.insert(held.end(), offsets.begin(), offsets.end());
  return 0;
}

int16_t TxnCoordinator::end(const std::string& txn_id, int64_t pid, int16_t epoch, bool commit) {
  std::lock_guard lock(mu_);
  Txn* t = nullptr;
  if (int16_t e = check_locked(txn_id, pid, epoch, &t); e != 0) return e;
  if (!t->open) return 0;  // nothing was added, or a retry of an end that completed
  finish_locked(*t, commit);
  ++(commit ? stats_.committed : stats_.aborted);
  return 0;
}

void TxnCoordinator::finish_locked(Txn& txn, bool commit) {
  for (const auto& [topic, partition] : txn.partitions) {
    std::shared_ptr<PartitionLog> log = store_.partition(topic, partition);
    if (log == nullptr) continue;  // deleted meanwhile
    if (auto r = log->append_marker(txn.pid, txn.epoch, commit); !r) {
      log_error("broker: cannot write the {} marker on {}[{}]: {}", commit ? "commit" : "abort",
                topic, partition, r.error().message);
    }
  }
  if (commit) {
    for (const auto& [group, offsets] : txn.offsets) {
      if (int16_t e = groups_.commit(group, -1, "", offsets); e != 0) {
        log_error("broker: offsets of group '{}' committed with a transaction were lost (error {})",
                  group, e);
      }
    }
  }
  txn.open = false;
  txn.partitions.clear();
  txn.groups.clear();
  txn.offsets.clear();
  store_.notify_append();  // the last stable offset moved
}

int16_t TxnCoordinator::check_produce(const std::string& txn_id, int64_t pid, int16_t epoch,
                                      const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  Txn* t = nullptr;
  if (int16_t e = check_locked(txn_id, pid, epoch, &t); e != 0) return e;
  if (!t->open || t->partitions.count({topic, partition}) == 0) return kErrInvalidTxnState;
  return 0;
}

int TxnCoordinator::expire(int64_t now) {
  std::lock_guard lock(mu_);
  int expired = 0;
  for (auto& [id, t] : txns_) {
    if (!t.open || now - t.started_ms <= t.timeout_ms) continue;
    log_warn("broker: transaction of '{}' open for more than {} ms: aborted, producer fenced", id,
             t.timeout_ms);
    bump_epoch(t);
    finish_locked(t, /*commit=*/false);
    ++stats_.timed_out;
    ++stats_.aborted;
    ++expired;
  }
  if (expired > 0) {
    if (Status s = persist_locked(); !s) log_error("broker: {}", s.error().message);
  }
  return expired;
}

TxnCoordinator::Stats TxnCoordinator::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.open = 0;
  for (const auto& [id, t] : txns_) s.open += t.open ? 1 : 0;
  return s;
}

}  // namespace kv::broker
