#include "broker/partition_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "broker/fd_io.h"
#include "broker/record_batch.h"
#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"

namespace kv::broker {
namespace fs = std::filesystem;

namespace {

constexpr const char* kOutOfRangeText = "offset out of range";

// Owns a file descriptor.
Error io_error(const std::string& what, const fs::path& path) {
  return make_error(ErrorCode::kIo,
                    fmt::format("{} '{}': {}", what, path.string(), std::strerror(errno)));
}

// A failed write names the file it was writing.
Status write_file(int fd, const uint8_t* data, size_t n, const fs::path& path) {
  return write_all(fd, data, n) ? ok_status() : Status(io_error("writing", path));
}

std::string segment_name(int64_t base_offset, const char* ext) {
  return fmt::format("{:020d}{}", base_offset, ext);
}

}  // namespace

struct PartitionLog::Segment {
  struct Entry {
    int64_t base_offset;
    int64_t last_offset;
    int64_t position;
  };
  int64_t base_offset = 0;
  fs::path log_path;
  fs::path index_path;
  File log;
  File index;
  int64_t size = 0;
  int64_t max_timestamp_ms = -1;
  std::vector<Entry> entries;  // one per batch, ascending
};

bool is_out_of_range(const Error& error) {
  return error.message.find(kOutOfRangeText) != std::string::npos;
}

PartitionLog::PartitionLog(fs::path dir, LogConfig config)
    : dir_(std::move(dir)), config_(config) {}

void PartitionLog::set_config(const LogConfig& config) {
  std::lock_guard lock(mu_);
  config_ = config;
}

PartitionLog::~PartitionLog() {
  std::lock_guard lock(mu_);
  if (Status s = flush_locked(); !s) log_error("broker: {}", s.error().message);
}

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(const fs::path& dir,
                                                         const LogConfig& config) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
  std::unique_ptr<PartitionLog> log(new PartitionLog(dir, config));
  if (Status s = log->recover(); !s) return s.error();
  log->last_flush_ms_ = mono_now_us() / 1000;
  return log;
}

// Scans every segment batch by batch. The active (last) segment is checked fully (length,
// CRC, contiguous offsets) and cut at the first bad batch: a write torn by a crash. Older
// segments were complete when they were rolled, so their headers suffice.
Status PartitionLog::recover() {
  std::vector<int64_t> bases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".cleaned") {  // compaction stopped before its swap: the original stays
      fs::remove(p, ec);
      continue;
    }
    if (p.extension() != ".log") continue;
    try {
      bases.push_back(std::stoll(p.stem().string()));
    } catch (const std::exception&) {
      log_warn("broker: ignoring '{}': not a segment name", p.string());
    }
  }
  if (ec)
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot list '{}': {}", dir_.string(), ec.message()));
  std::sort(bases.begin(), bases.end());
  if (bases.empty()) return roll(0);

  int64_t expected = bases.front();
  for (size_t i = 0; i < bases.size(); ++i) {
    auto seg = std::make_unique<Segment>();
    seg->base_offset = bases[i];
    seg->log_path = dir_ / segment_name(bases[i], ".log");
    seg->index_path = dir_ / segment_name(bases[i], ".index");
    seg->log = File(::open(seg->log_path.c_str(), O_RDWR | O_CLOEXEC));
    if (seg->log.get() < 0) return io_error("opening", seg->log_path);
    struct stat st {};
    if (::fstat(seg->log.get(), &st) != 0) return io_error("stat", seg->log_path);
    const int64_t file_size = st.st_size;
    const bool active = i + 1 == bases.size();
    // Compaction may have emptied the tail of the previous segment: a gap, never an overlap.
    if (seg->base_offset < expected) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("segment '{}' starts at {} but the previous one ends at {}",
                                    seg->log_path.string(), seg->base_offset, expected));
    }
    expected = seg->base_offset;
    int64_t pos = 0;
    std::vector<uint8_t> buf;
    uint8_t header[kBatchHeaderBytes];
    while (pos + static_cast<int64_t>(kBatchHeaderBytes) <= file_size) {
      if (!pread_exact(seg->log.get(), header, sizeof header, pos)) break;
      // A header that does not parse, or a batch that does not follow on, is where a torn
      // write begins (only the active segment's body is read and its CRC checked).
      auto hdr = parse_batch_header(header, static_cast<size_t>(file_size - pos));
      // Rolled segments may have gaps left by compaction; the active one is never compacted.
      if (!hdr || hdr->base_offset < expected || (active && hdr->base_offset != expected)) break;
      const auto total = static_cast<int64_t>(hdr->total_bytes());
      if (active) {
        buf.resize(static_cast<size_t>(total));
        if (!pread_exact(seg->log.get(), buf.data(), buf.size(), pos) || !batch_crc_ok(buf)) break;
      }
      std::optional<bool> commit;
      if (hdr->is_control()) {
        if (!active) {
          buf.resize(static_cast<size_t>(total));
          if (!pread_exact(seg->log.get(), buf.data(), buf.size(), pos)) break;
        }
        commit = control_batch_is_commit(buf);
      }
      track_transaction(*hdr, hdr->base_offset, commit);
      seg->entries.push_back({hdr->base_offset, hdr->last_offset(), pos});
      if (hdr->producer_id >= 0 && hdr->base_sequence >= 0) {
        remember_producer(hdr->producer_id, hdr->producer_epoch, hdr->base_sequence,
                          hdr->last_offset_delta, hdr->base_offset);
      }
      seg->max_timestamp_ms = std::max(seg->max_timestamp_ms, hdr->max_timestamp);
      KV_ASSERT(hdr->last_offset() >= expected, "offsets in a log only grow");
      expected = hdr->last_offset() + 1;
      pos += total;
    }
    if (pos < file_size) {
      if (!active) {
        return make_error(ErrorCode::kDecode,
                          fmt::format("segment '{}' is corrupt at byte {} of {}",
                                      seg->log_path.string(), pos, file_size));
      }
      log_warn(
          "broker: '{}': cutting {} bytes of torn or corrupt data at byte {} (last good offset {})",
          seg->log_path.string(), file_size - pos, pos, expected - 1);
      if (::ftruncate(seg->log.get(), pos) != 0) return io_error("truncating", seg->log_path);
      truncated_bytes_ += file_size - pos;
    }
    seg->size = pos;
    if (::lseek(seg->log.get(), pos, SEEK_SET) < 0) return io_error("seeking", seg->log_path);
    // The index is rewritten from the scan, which is the source of truth.
    seg->index =
        File(::open(seg->index_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (seg->index.get() < 0) return io_error("opening", seg->index_path);
    std::vector<uint8_t> index_bytes(seg->entries.size() * 8);
    for (size_t e = 0; e < seg->entries.size(); ++e) {
      store_be32(&index_bytes[e * 8],
                 static_cast<uint32_t>(seg->entries[e].base_offset - seg->base_offset));
      store_be32(&index_bytes[e * 8 + 4], static_cast<uint32_t>(seg->entries[e].position));
    }
    if (Status s =
            write_file(seg->index.get(), index_bytes.data(), index_bytes.size(), seg->index_path);
        !s)
      return s;
    segments_.push_back(std::move(seg));
  }
  log_start_ = segments_.front()->base_offset;
  log_end_ = expected;
  return ok_status();
}

Status PartitionLog::roll(int64_t base_offset) {
  auto seg = std::make_unique<Segment>();
  seg->base_offset = base_offset;
  seg->log_path = dir_ / segment_name(base_offset, ".log");
  seg->index_path = dir_ / segment_name(base_offset, ".index");
  seg->log = File(::open(seg->log_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (seg->log.get() < 0) return io_error("creating", seg->log_path);
  seg->index = File(::open(seg->index_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (seg->index.get() < 0) return io_error("creating", seg->index_path);
  if (!segments_.empty()) {
    // The finished segment is made durable before the new one takes writes.
    if (::fdatasync(segments_.back()->log.get()) != 0)
      return io_error("syncing", segments_.back()->log_path);
  }
  // A new file needs its directory entry synced to survive a machine crash.
  File dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() >= 0) ::fsync(dirfd.get());
  if (segments_.empty()) log_start_ = base_offset;
  segments_.push_back(std::move(seg));
  return ok_status();
}

Result<int64_t> PartitionLog::append(std::span<uint8_t> batch) {
  auto h = parse_batch_header(batch);
  if (!h) return h.error();
  if (h->total_bytes() != batch.size()) {
    return make_error(ErrorCode::kDecode, fmt::format("batch is {} bytes but its header says {}",
                                                      batch.size(), h->total_bytes()));
  }
  if (!batch_crc_ok(batch)) return make_error(ErrorCode::kDecode, "record batch CRC-32C mismatch");
  std::lock_guard lock(mu_);
  Segment* seg = segments_.back().get();
  if (seg->size > 0 && seg->size + static_cast<int64_t>(batch.size()) > config_.segment_bytes) {
    if (Status s = roll(log_end_); !s) return s.error();
    seg = segments_.back().get();
  }
  if (h->producer_id >= 0 && h->base_sequence >= 0) {
    auto it = producers_.find(h->producer_id);
    if (it != producers_.end()) {
      const ProducerState& st = it->second;
      if (h->producer_epoch < st.epoch) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("INVALID_PRODUCER_EPOCH: producer {} epoch {} is older than {}",
                        h->producer_id, h->producer_epoch, st.epoch));
      }
      if (h->producer_epoch == st.epoch && !st.recent.empty()) {
        const int32_t last_seq = h->base_sequence + h->last_offset_delta;
        for (const ProducerBatch& b : st.recent) {
          if (b.first_seq == h->base_sequence && b.last_seq == last_seq)
            return b.base_offset;  // a retry
        }
        const int32_t expected =
            st.recent.back().last_seq == INT32_MAX ? 0 : st.recent.back().last_seq + 1;
        if (h->base_sequence != expected) {
          return make_error(
              ErrorCode::kInvalidArgument,
              fmt::format("OUT_OF_ORDER_SEQUENCE_NUMBER: producer {} sent sequence {}, expected {}",
                          h->producer_id, h->base_sequence, expected));
        }
      }
    }
  }
  if (h->is_control()) {
    auto it = producers_.find(h->producer_id);
    if (it != producers_.end() && h->producer_epoch < it->second.epoch) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("INVALID_PRODUCER_EPOCH: marker for producer {} epoch {} is "
                                    "older than {}",
                                    h->producer_id, h->producer_epoch, it->second.epoch));
    }
  }
  const int64_t base = log_end_;
  set_base_offset(batch, base);
  if (Status s = write_file(seg->log.get(), batch.data(), batch.size(), seg->log_path); !s) {
    // Never leave half a batch behind: cut back to where this append started.
    if (::ftruncate(seg->log.get(), seg->size) != 0 ||
        ::lseek(seg->log.get(), seg->size, SEEK_SET) < 0) {
      log_error("broker: cannot roll back a failed write to '{}'", seg->log_path.string());
    }
    return s.error();
  }
  uint8_t entry[8];
  store_be32(entry, static_cast<uint32_t>(base - seg->base_offset));
  store_be32(entry + 4, static_cast<uint32_t>(seg->size));
  if (Status s = write_file(seg->index.get(), entry, sizeof entry, seg->index_path); !s)
    return s.error();
  KV_ASSERT(seg->entries.empty() || seg->entries.back().base_offset < base,
            "offsets in a log only grow");
  seg->entries.push_back({base, base + h->last_offset_delta, seg->size});
  seg->size += static_cast<int64_t>(batch.size());
  seg->max_timestamp_ms = std::max(seg->max_timestamp_ms, h->max_timestamp);
  log_end_ = base + h->last_offset_delta + 1;
  if (h->producer_id >= 0 && h->base_sequence >= 0) {
    remember_producer(h->producer_id, h->producer_epoch, h->base_sequence, h->last_offset_delta,
                      base);
  }
  track_transaction(*h, base,
                    h->is_control() ? control_batch_is_commit(batch) : std::optional<bool>());
  dirty_ = true;
  const int64_t now_ms = mono_now_ms();
  if (config_.flush_interval_ms == 0 || now_ms - last_flush_ms_ >= config_.flush_interval_ms) {
    if (Status s = flush_locked(); !s) return s.error();
  }
  return base;
}

Result<int64_t> PartitionLog::append_marker(int64_t producer_id, int16_t producer_epoch,
                                            bool commit) {
  std::vector<uint8_t> batch =
      make_control_batch(producer_id, producer_epoch, commit, wall_now_us() / 1000);
  return append(batch);
}

void PartitionLog::track_transaction(const BatchHeader& h, int64_t base,
                                     std::optional<bool> commit) {
  if (!h.is_transactional() || h.producer_id < 0) return;
  if (!h.is_control()) {
    open_txns_.try_emplace(h.producer_id, base);
    return;
  }
  // A marker: the producer's epoch is now at least the marker's (a fencing abort bumps it).
  ProducerState& st = producers_[h.producer_id];
  if (h.producer_epoch > st.epoch) {
    st.epoch = h.producer_epoch;
    st.recent.clear();
  }
  auto it = open_txns_.find(h.producer_id);
  if (it == open_txns_.end()) return;
  if (commit.has_value() && !*commit) aborted_.push_back({h.producer_id, it->second, base});
  open_txns_.erase(it);
}

int64_t PartitionLog::last_stable_offset() const {
  std::lock_guard lock(mu_);
  int64_t lso = log_end_;
  for (const auto& [pid, first] : open_txns_) lso = std::min(lso, first);
  return lso;
}

std::vector<PartitionLog::AbortedTxn> PartitionLog::aborted_between(int64_t from,
                                                                    int64_t to) const {
  std::lock_guard lock(mu_);
  std::vector<AbortedTxn> out;
  for (const AbortedTxn& a : aborted_) {
    if (a.last_offset >= from && a.first_offset < to) out.push_back(a);
  }
  return out;
}

std::vector<std::pair<int64_t, int16_t>> PartitionLog::open_transactions() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<int64_t, int16_t>> out;
  for (const auto& [pid, first] : open_txns_) {
    auto it = producers_.find(pid);
    out.emplace_back(pid, it == producers_.end() ? int16_t{0} : it->second.epoch);
  }
  return out;
}

Result<std::vector<uint8_t>> PartitionLog::read(int64_t offset, size_t max_bytes,
                                                int64_t upto) const {
  std::lock_guard lock(mu_);
  if (offset < log_start_ || offset > log_end_) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("{}: {} is outside [{}, {}]", kOutOfRangeText, offset, log_start_, log_end_));
  }
  if (offset == log_end_ || offset >= upto) return std::vector<uint8_t>{};
  // The batch holding `offset`, or after a gap left by compaction the next one.
  auto s = std::upper_bound(
      segments_.begin(), segments_.end(), offset,
      [](int64_t o, const std::unique_ptr<Segment>& seg) { return o < seg->base_offset; });
  if (s != segments_.begin()) --s;
  const Segment* seg = nullptr;
  size_t first = 0;
  for (; s != segments_.end(); ++s) {
    auto it =
        std::lower_bound((*s)->entries.begin(), (*s)->entries.end(), offset,
                         [](const Segment::Entry& e, int64_t o) { return e.last_offset < o; });
    if (it != (*s)->entries.end()) {
      seg = s->get();
      first = static_cast<size_t>(it - seg->entries.begin());
      break;
    }
  }
  if (seg == nullptr || seg->entries[first].base_offset >= upto) return std::vector<uint8_t>{};
  const int64_t start = seg->entries[first].position;
  int64_t end = start;
  for (size_t i = first; i < seg->entries.size(); ++i) {
    const int64_t batch_end =
        i + 1 < seg->entries.size() ? seg->entries[i + 1].position : seg->size;
    if (i > first && batch_end - start > static_cast<int64_t>(max_bytes)) break;
    if (i > first && seg->entries[i].base_offset >= upto) break;
    end = batch_end;
  }
  std::vector<uint8_t> out(static_cast<size_t>(end - start));
  if (!pread_exact(seg->log.get(), out.data(), out.size(), start)) {
    return make_error(ErrorCode::kIo, fmt::format("reading '{}': {}", seg->log_path.string(),
                                                  std::strerror(errno)));
  }
  return out;
}

void PartitionLog::remember_producer(int64_t pid, int16_t epoch, int32_t first_seq,
                                     int32_t last_delta, int64_t base_offset) {
  constexpr size_t kProducerWindow = 5;  // as Kafka: a producer has at most 5 requests in flight
  ProducerState& st = producers_[pid];
  if (epoch != st.epoch) {
    st.epoch = epoch;
    st.recent.clear();
  }
  st.recent.push_back({first_seq, first_seq + last_delta, base_offset});
  if (st.recent.size() > kProducerWindow) st.recent.pop_front();
}

PartitionLog::TimedOffset PartitionLog::offset_for_timestamp(int64_t timestamp_ms) const {
  std::lock_guard lock(mu_);
  for (const auto& seg : segments_) {
    if (seg->max_timestamp_ms < timestamp_ms) continue;
    uint8_t header[kBatchHeaderBytes];
    for (const Segment::Entry& e : seg->entries) {
      if (!pread_exact(seg->log.get(), header, sizeof header, e.position)) break;
      const auto max_ts = static_cast<int64_t>(load_be64(header + 35));
      if (max_ts >= timestamp_ms) return {e.base_offset, max_ts};
    }
  }
  return {};
}

int64_t PartitionLog::log_start_offset() const {
  std::lock_guard lock(mu_);
  return log_start_;
}

int64_t PartitionLog::log_end_offset() const {
  std::lock_guard lock(mu_);
  return log_end_;
}

int64_t PartitionLog::size_bytes() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const auto& s : segments_) total += s->size;
  return total;
}

Status PartitionLog::flush() {
  std::lock_guard lock(mu_);
  return flush_locked();
}

Status PartitionLog::flush_locked() {
  last_flush_ms_ = mono_now_us() / 1000;
  if (!dirty_ || segments_.empty()) return ok_status();
  const Segment& seg = *segments_.back();
  if (::fdatasync(seg.log.get()) != 0) return io_error("syncing", seg.log_path);
  if (::fdatasync(seg.index.get()) != 0) return io_error("syncing", seg.index_path);
  dirty_ = false;
  return ok_status();
}

int PartitionLog::enforce_retention(int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (!config_.delete_old) return 0;
  int deleted = 0;
  int64_t total = 0;
  for (const auto& s : segments_) total += s->size;
  while (segments_.size() > 1) {
    const Segment& oldest = *segments_.front();
    // As Kafka: drop the oldest segment while what remains without it still meets the limit.
    const bool too_big =
        config_.retention_bytes >= 0 && total - oldest.size >= config_.retention_bytes;
    const bool too_old = config_.retention_ms >= 0 && oldest.max_timestamp_ms >= 0 &&
                         now_ms - oldest.max_timestamp_ms > config_.retention_ms;
    if (!too_big && !too_old) break;
    std::error_code ec;
    fs::remove(oldest.log_path, ec);
    fs::remove(oldest.index_path, ec);
    total -= oldest.size;
    segments_.erase(segments_.begin());
    log_start_ = segments_.front()->base_offset;
    std::erase_if(aborted_, [&](const AbortedTxn& a) { return a.last_offset < log_start_; });
    ++deleted;
  }
  return deleted;
}

namespace {

// The bytes of each batch of a rolled segment, read without the log's lock (see compact()).
struct SegmentBatches {
  std::vector<uint8_t> bytes;
  std::vector<std::pair<size_t, size_t>> batches;  // [begin, end) in bytes
};

}  // namespace

Result<PartitionLog::CompactStats> PartitionLog::compact() {
  struct Plan {
    Segment* seg;
    int64_t size;
    std::vector<Segment::Entry> entries;
  };
  std::vector<Plan> plans;
  int64_t cleanable_end = 0;  // the first segment not compacted begins here
  std::vector<AbortedTxn> aborted;
  std::set<int64_t> keep_whole;  // base offsets of the producers' latest batches
  {
    std::lock_guard lock(mu_);
    if (!config_.compact || segments_.size() < 2) return CompactStats{};
    int64_t lso = log_end_;
    for (const auto& [pid, first] : open_txns_) lso = std::min(lso, first);
    for (size_t i = 0; i + 1 < segments_.size(); ++i) {
      Segment* seg = segments_[i].get();
      // Next segment's base: everything here lies below it.
      if (segments_[i + 1]->base_offset > lso) break;
      plans.push_back({seg, seg->size, seg->entries});
    }
    if (plans.empty()) return CompactStats{};
    cleanable_end = segments_[plans.size()]->base_offset;
    if (cleanable_end <= cleaned_upto_) return CompactStats{};
    aborted = aborted_;
    for (const auto& [pid, st] : producers_) {
      for (const ProducerBatch& b : st.recent) keep_whole.insert(b.base_offset);
    }
  }
  const auto is_aborted = [&](const BatchHeader& h) {
    if (!h.is_transactional() || h.is_control()) return false;
    return std::any_of(aborted.begin(), aborted.end(), [&](const AbortedTxn& a) {
      return a.producer_id == h.producer_id && h.base_offset >= a.first_offset &&
             h.base_offset <= a.last_offset;
    });
  };

  // Rolled segments do not change under us: only this thread rewrites or deletes them. One
  // segment at a time is in memory.
  const auto load = [&](const Plan& plan) -> Result<SegmentBatches> {
    SegmentBatches d;
    d.bytes.resize(static_cast<size_t>(plan.size));
    if (!pread_exact(plan.seg->log.get(), d.bytes.data(), d.bytes.size(), 0))
      return io_error("reading", plan.seg->log_path);
    for (size_t e = 0; e < plan.entries.size(); ++e) {
      const auto begin = static_cast<size_t>(plan.entries[e].position);
      const auto end = e + 1 < plan.entries.size()
                           ? static_cast<size_t>(plan.entries[e + 1].position)
                           : d.bytes.size();
      d.batches.emplace_back(begin, end);
    }
    return d;
  };

  // Pass 1: the newest offset of each key.
  std::unordered_map<std::string, int64_t> newest;
  for (const Plan& plan : plans) {
    auto d = load(plan);
    if (!d) return d.error();
    for (const auto& [begin, end] : d->batches) {
      const std::span<const uint8_t> batch(d->bytes.data() + begin, end - begin);
      auto h = parse_batch_header(batch);
      if (!h) return h.error();
      if (h->is_control() || is_aborted(*h)) continue;
      auto records = batch_records(batch);
      if (!records) continue;  // compressed: kept whole, and it supersedes nothing
      for (const RecordView& r : *records) {
        if (!r.key) continue;
        newest[std::string(r.key->begin(), r.key->end())] = h->base_offset + r.offset_delta;
      }
    }
  }

  // Pass 2: each segment rewritten without what is superseded, into <name>.cleaned.
  CompactStats stats;
  struct Cleaned {
    size_t plan;
    fs::path log_tmp;
    fs::path index_tmp;
    std::vector<Segment::Entry> entries;
    int64_t size;
  };
  std::vector<Cleaned> cleaned;
  for (size_t i = 0; i < plans.size(); ++i) {
    auto loaded = load(plans[i]);
    if (!loaded) return loaded.error();
    const SegmentBatches& d = *loaded;
    std::vector<uint8_t> out;
    std::vector<Segment::Entry> entries;
    int64_t removed = 0;
    for (const auto& [begin, end] : d.batches) {
      const std::span<const uint8_t> batch(d.bytes.data() + begin, end - begin);
      auto h = parse_batch_header(batch);
      if (!h) return h.error();
      std::vector<uint8_t> rebuilt;
      std::span<const uint8_t> keep = batch;
      if (!h->is_control() && keep_whole.count(h->base_offset) == 0) {
        if (is_aborted(*h)) {
          removed += h->record_count;
          continue;
        }
        auto records = batch_records(batch);
        if (records) {
          std::vector<RecordView> kept;
          for (const RecordView& r : *records) {
            const auto it =
                r.key ? newest.find(std::string(r.key->begin(), r.key->end())) : newest.end();
            const bool superseded =
                it != newest.end() && it->second != h->base_offset + r.offset_delta;
            if (!superseded) kept.push_back(r);
          }
          removed += static_cast<int64_t>(records->size() - kept.size());
          if (kept.empty()) continue;
          if (kept.size() < records->size()) {
            rebuilt = rebuild_batch(batch, kept);
            keep = rebuilt;
          }
        }
      }
      entries.push_back({h->base_offset, h->last_offset(), static_cast<int64_t>(out.size())});
      out.insert(out.end(), keep.begin(), keep.end());
    }
    stats.bytes_before += plans[i].size;
    if (removed == 0) {
      stats.bytes_after += plans[i].size;
      continue;
    }
    stats.records_removed += removed;
    stats.bytes_after += static_cast<int64_t>(out.size());
    Cleaned c{i, plans[i].seg->log_path.string() + ".cleaned",
              plans[i].seg->index_path.string() + ".cleaned", std::move(entries),
              static_cast<int64_t>(out.size())};
    std::vector<uint8_t> index_bytes(c.entries.size() * 8);
    for (size_t e = 0; e < c.entries.size(); ++e) {
      store_be32(&index_bytes[e * 8],
                 static_cast<uint32_t>(c.entries[e].base_offset - plans[i].seg->base_offset));
      store_be32(&index_bytes[e * 8 + 4], static_cast<uint32_t>(c.entries[e].position));
    }
    for (const auto& [path, bytes] : {std::pair{&c.log_tmp, &out}, {&c.index_tmp, &index_bytes}}) {
      File f(::open(path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (f.get() < 0) return io_error("creating", *path);
      if (Status st = write_file(f.get(), bytes->data(), bytes->size(), *path); !st)
        return st.error();
      if (::fdatasync(f.get()) != 0) return io_error("syncing", *path);
    }
    cleaned.push_back(std::move(c));
  }

  // The swap, under the lock: each rename is atomic, so a crash leaves every segment either
  // as it was or cleaned.
  {
    std::lock_guard lock(mu_);
    std::vector<const Segment*> emptied;
    for (Cleaned& c : cleaned) {
      Segment* seg = plans[c.plan].seg;
      std::error_code ec;
      fs::rename(c.log_tmp, seg->log_path, ec);
      if (ec)
        return make_error(ErrorCode::kIo,
                          fmt::format("renaming '{}': {}", c.log_tmp.string(), ec.message()));
      fs::rename(c.index_tmp, seg->index_path, ec);  // rebuilt at open anyway
      seg->log = File(::open(seg->log_path.c_str(), O_RDWR | O_CLOEXEC));
      if (seg->log.get() < 0) return io_error("opening", seg->log_path);
      seg->index = File(::open(seg->index_path.c_str(), O_RDWR | O_CLOEXEC));
      seg->entries = std::move(c.entries);
      seg->size = c.size;
      ++stats.segments_rewritten;
      if (seg->entries.empty() && seg != segments_.front().get()) emptied.push_back(seg);
    }
    for (const Segment* seg : emptied) {
      std::error_code ec;
      fs::remove(seg->log_path, ec);
      fs::remove(seg->index_path, ec);
      std::erase_if(segments_, [&](const std::unique_ptr<Segment>& s) { return s.get() == seg; });
    }
    File dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirfd.get() >= 0) ::fsync(dirfd.get());
    cleaned_upto_ = cleanable_end;
  }
  return stats;
}

}  // namespace kv::broker
