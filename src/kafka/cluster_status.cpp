#include "kafka/cluster_status.h"
#include "kafka/client.h"
#include "kafka/partition_reader.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/clock.h"
#include "kafka/record.h"
#include "wire/frame_headers.h"

namespace kv::kafka {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kUnderReplicated:
      return "UNDER_REPLICATED";
    case Verdict::kLagging:
      return "LAGGING";
    case Verdict::kStalled:
      return "STALLED";
  }
  return "?";
}

namespace {
constexpr double kSmallLag = 10;
}  // namespace

GroupHealth judge(const GroupStatus& before, const GroupStatus& after, double seconds) {
  GroupHealth h;
  h.lag_before = before.total_lag;
  h.lag_after = after.total_lag;
  std::map<std::pair<std::string, int32_t>, int64_t> was;
  for (const auto& p : before.partitions)
    was[{p.topic, p.partition}] = std::max<int64_t>(p.committed, 0);
  for (const auto& p : after.partitions) {
    auto it = was.find({p.topic, p.partition});
    const int64_t then = it != was.end() ? it->second : 0;
    h.progress += std::max<int64_t>(0, std::max<int64_t>(p.committed, 0) - then);
  }
  h.committed_per_s = seconds > 0 ? static_cast<double>(h.progress) / seconds : 0;
  if (h.lag_after == 0) {
    h.reason = "caught up";
  } else if (h.progress == 0) {
    h.verdict = Verdict::kStalled;
    h.reason =
        fmt::format("{} records behind and nothing committed in {:.0f} s", h.lag_after, seconds);
  } else if (h.lag_after > h.lag_before &&
             static_cast<double>(h.lag_after) > std::max(kSmallLag, h.committed_per_s)) {
    // A lag under a second's work (or a few records) is work in flight, not falling behind.
    h.verdict = Verdict::kLagging;
    h.reason =
        fmt::format("lag grew from {} to {} in {:.0f} s", h.lag_before, h.lag_after, seconds);
  } else {
    h.reason = fmt::format("lag {} (was {}), keeping up", h.lag_after, h.lag_before);
  }
  return h;
}

ClusterReport judge_groups(const ClusterSnapshot& before, const ClusterSnapshot& after) {
  ClusterReport r;
  r.seconds = static_cast<double>(after.taken_us - before.taken_us) / 1e6;
  const GroupStatus none;
  for (const GroupStatus& g : after.groups) {
    const GroupStatus* was = &none;
    for (const GroupStatus& b : before.groups) {
      if (b.group == g.group) was = &b;
    }
    GroupHealth h = judge(*was, g, r.seconds);
    if (static_cast<int>(h.verdict) > static_cast<int>(r.overall)) r.overall = h.verdict;
    r.groups.push_back({&g, std::move(h)});
  }
  for (const PartitionStatus& p : after.partitions) r.under_replicated += p.under_replicated();
  if (r.under_replicated > 0 && r.overall == Verdict::kOk) r.overall = Verdict::kUnderReplicated;
  return r;
}

Result<std::unique_ptr<StatusReader>> StatusReader::create(const KafkaConfig& config) {
  std::unique_ptr<StatusReader> r(new StatusReader());
  auto admin = Admin::create(config);
  if (!admin) return admin.error();
  r->admin_ = std::move(*admin);
  auto reader = PartitionReader::create(config, {.report_ends = true, .name = "status"});
  if (!reader) return reader.error();
  r->reader_ = std::move(*reader);
  return r;
}

// Offsets between a group's commit and the end of a partition that a read_committed reader
// never gets (transaction markers, aborted records) are not lag. A consumer commits "its last
// record + 1", so downstream of a transactional producer it stays one commit marker behind for
// ever, which would read as STALLED. For small lags, read from the commit: a partition that
// ends before any record arrives has nothing left to do.
void StatusReader::discount_invisible_lag(ClusterSnapshot& s, int timeout_ms) {
  constexpr int64_t kProbeLag = 16;  // more than this many markers in a row is unlikely
  std::map<std::pair<std::string, int32_t>, int64_t> from;  // the lowest such commit
  for (const GroupStatus& g : s.groups) {
    for (const GroupPartitionStatus& p : g.partitions) {
      if (p.committed < 0 || p.lag <= 0 || p.lag > kProbeLag) continue;
      auto [it, added] = from.try_emplace({p.topic, p.partition}, p.committed);
      if (!added) it->second = std::min(it->second, p.committed);
    }
  }
  if (from.empty()) return;
  std::vector<PartitionStart> starts;
  for (const auto& [tp, offset] : from) starts.push_back({{tp.first, tp.second}, offset});
  // (topic, partition) -> offset of the first readable record at or after the commit, or -1
  // when the partition ended first.
  std::map<std::pair<std::string, int32_t>, int64_t> first;
  if (Status r = reader_->read(starts); !r) return;
  const int64_t deadline = mono_now_us() + int64_t{timeout_ms} * 1000;
  while (first.size() < from.size() && mono_now_us() < deadline) {
    auto m = reader_->poll(50);
    if (!m) break;
    if (*m) first.try_emplace({std::string(m->topic()), m->partition()}, m->offset());
    for (const TopicPartition& tp : reader_->ends())
      first.try_emplace({tp.topic, tp.partition}, -1);
  }
  (void)reader_->clear();
  for (GroupStatus& g : s.groups) {
    for (GroupPartitionStatus& p : g.partitions) {
      auto f = first.find({p.topic, p.partition});
      const auto start = from.find({p.topic, p.partition});
      if (f == first.end() || start == from.end() || f->second >= 0 || p.committed < start->second)
        continue;
      g.total_lag -= p.lag;  // nothing readable after the commit
      p.lag = 0;
    }
  }
}

Result<ClusterSnapshot> StatusReader::snapshot(const std::vector<std::string>& frame_topics,
                                               int timeout_ms, const std::string& health_topic) {
  ClusterSnapshot s;
  s.taken_us = wall_now_us();
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_resp_err_t e = rd_kafka_metadata(reader_->rk_.get(), 1, nullptr, &md, timeout_ms);
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka,
                      fmt::format("cannot read the cluster's metadata: {}: check --brokers",
                                  rd_kafka_err2str(e)));
  }
  for (int t = 0; t < md->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& topic = md->topics[t];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || std::string(topic.topic).rfind("__", 0) == 0)
      continue;
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& mp = topic.partitions[p];
      PartitionStatus ps{topic.topic,
                         mp.id,
                         0,
                         0,
                         mp.leader,
                         std::vector<int32_t>(mp.replicas, mp.replicas + mp.replica_cnt),
                         std::vector<int32_t>(mp.isrs, mp.isrs + mp.isr_cnt)};
      s.partitions.push_back(ps);
    }
  }
  rd_kafka_metadata_destroy(md);
  // Log start and end offsets of every partition in one request per broker, under one deadline:
  // asked one partition at a time, each partition of a broker that just died would cost the
  // whole timeout until the cluster moves its leadership.
  auto offsets = [&](int64_t which, int64_t PartitionStatus::*field) {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(s.partitions.size())));
    for (const auto& p : s.partitions) {
      if (p.leader >= 0)  // offline partitions have no offsets to give
        rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = which;
    }
    if (list->cnt == 0) return;
    // A timestamp of -2 (-1) asks ListOffsets for the earliest (latest) offset.
    rd_kafka_offsets_for_times(reader_->rk_.get(), list.get(), timeout_ms);
    std::map<std::pair<std::string, int32_t>, int64_t> got;
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t& e = list->elems[i];
      if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0)
        got[{e.topic, e.partition}] = e.offset;
    }
    for (auto& p : s.partitions) {
      auto it = got.find({p.topic, p.partition});
      if (it != got.end()) p.*field = it->second;
    }
  };
  offsets(RD_KAFKA_OFFSET_BEGINNING, &PartitionStatus::start);
  offsets(RD_KAFKA_OFFSET_END, &PartitionStatus::end);
  std::sort(s.partitions.begin(), s.partitions.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  std::map<std::pair<std::string, int32_t>, const PartitionStatus*> by_tp;
  for (const auto& p : s.partitions) by_tp[{p.topic, p.partition}] = &p;

  auto groups = admin_->list_groups(timeout_ms);
  if (!groups) s.warnings.push_back(groups.error().message);
  for (const GroupListing& g : groups ? *groups : std::vector<GroupListing>{}) {
    if (g.group_id == "kvision-status") continue;
    GroupStatus gs;
    gs.group = g.group_id;
    gs.state = g.state;
    std::map<std::pair<std::string, int32_t>, std::string> owner;
    if (auto d = admin_->describe_group(g.group_id, timeout_ms); d) {
      gs.members = d->members;
      if (!d->state.empty()) gs.state = d->state;
      for (const GroupMember& m : d->members)
        for (const auto& tp : m.assignment) owner[tp] = m.client_id;
    }
    Admin::Partitions all;
    for (const auto& p : s.partitions) all.emplace_back(p.topic, p.partition);
    auto committed = admin_->committed_offsets(g.group_id, all, timeout_ms);
    if (!committed) {
      s.warnings.push_back(committed.error().message);
      continue;
    }
    for (const auto& p : s.partitions) {
      auto c = committed->find({p.topic, p.partition});
      const bool owned = owner.count({p.topic, p.partition}) > 0;
      if (c == committed->end() && !owned) continue;  // not a partition this group reads
      GroupPartitionStatus gp;
      gp.topic = p.topic;
      gp.partition = p.partition;
      gp.committed = c != committed->end() ? c->second : -1;
      gp.end = p.end;
      gp.lag = std::max<int64_t>(0, p.end - (gp.committed >= 0 ? gp.committed : p.start));
      gp.member = owned ? owner[{p.topic, p.partition}] : "";
      gs.total_lag += gp.lag;
      gs.partitions.push_back(gp);
    }
    s.groups.push_back(std::move(gs));
  }

  discount_invisible_lag(s, timeout_ms);

  // The newest frame per camera: the last record of each non-empty frame partition.
  std::vector<PartitionStart> last;
  for (const auto& p : s.partitions) {
    if (std::find(frame_topics.begin(), frame_topics.end(), p.topic) == frame_topics.end() ||
        p.end <= p.start)
      continue;
    last.push_back({{p.topic, p.partition}, p.end - 1});
  }
  if (!last.empty() && reader_->read(last)) {
    std::map<std::pair<std::string, std::string>, CameraStatus> newest;
    const int64_t deadline = mono_now_us() + int64_t{timeout_ms} * 1000;
    size_t got = 0;
    while (got < last.size() && mono_now_us() < deadline) {
      auto m = reader_->poll(50);
      if (!m) break;
      if (!*m) continue;
      ++got;
      auto meta = wire::decode_frame_headers(m->headers());
      if (!meta) continue;
      const std::string topic(m->topic());
      CameraStatus& c = newest[{meta->camera, topic}];
      if (meta->capture_us >= c.capture_us) c = {meta->camera, topic, meta->capture_us, meta->seq};
    }
    (void)reader_->clear();
    for (auto& [key, c] : newest) s.cameras.push_back(c);
  }
  if (!health_topic.empty()) read_camera_health(s, health_topic, timeout_ms);
  return s;
}

// The newest health record per camera, from the tail of each partition (records come every
// heartbeat per camera, so the tail holds every camera still reporting).
void StatusReader::read_camera_health(ClusterSnapshot& s, const std::string& topic,
                                      int timeout_ms) {
  constexpr int64_t kTail = 2000;  // records per partition
  std::vector<PartitionStart> tail;
  std::map<int32_t, int64_t> last_offset;
  for (const auto& p : s.partitions) {
    if (p.topic != topic || p.end <= p.start) continue;
    tail.push_back({{p.topic, p.partition}, std::max(p.start, p.end - kTail)});
    last_offset[p.partition] = p.end - 1;
  }
  if (tail.empty()) return;
  if (Status st = reader_->read(tail); !st) {
    s.warnings.push_back(fmt::format("camera health not read: {}", st.error().message));
    return;
  }
  std::map<std::string, wire::CameraHealth> newest;
  const int64_t deadline = mono_now_us() + int64_t{timeout_ms} * 1000;
  while (!last_offset.empty() && mono_now_us() < deadline) {
    auto m = reader_->poll(50);
    if (!m) break;
    if (!*m) continue;
    auto it = last_offset.find(m->partition());
    if (it != last_offset.end() && m->offset() >= it->second) last_offset.erase(it);
    const auto v = m->value();
    auto h = wire::decode_camera_health(
        std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
    if (!h) continue;
    auto& slot = newest[h->camera];
    if (h->updated_us >= slot.updated_us) slot = *h;
  }
  (void)reader_->clear();
  if (!last_offset.empty()) s.warnings.push_back("camera health: not every partition was read");
  for (auto& [camera, h] : newest) {
    if (h.state == wire::CameraState::kRemoved) continue;
    const bool ended = h.state == wire::CameraState::kFinished || h.reason == wire::kStoppedReason;
    s.camera_health.push_back(
        {h, !ended && s.taken_us - h.updated_us > int64_t{wire::kSilentAfterMs} * 1000});
  }
}

}  // namespace kv::kafka
