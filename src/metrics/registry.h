// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4). Names follow Prometheus conventions: base units
// (seconds, bytes), `_total` on counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kv::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(double v = 1) { add(v); }
  // Mirrors a monotonic total kept elsewhere (e.g. the broker's request counts).
  void set_total(double v) { value_.store(v); }
  double value() const { return value_.load(); }

 private:
  friend class Registry;
  void add(double v);
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v); }
  void add(double v);
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Buckets for durations in seconds, from 1 ms to 10 s.
std::vector<double> latency_buckets();

// Thread-safety: all methods may be called from any thread. The returned references stay
// valid for the registry's lifetime. A family's labels beyond max_series_per_family distinct
// sets are folded into one series whose label values are "_other" (bounded cardinality).
class Registry {
 public:
  static constexpr size_t kMaxSeriesPerFamily = 1000;

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels = {},
                       const std::vector<double>& bounds = latency_buckets());

  // Drops a gauge series (a partition that is no longer assigned).
  void remove_gauge(const std::string& name, const Labels& labels);

  // Runs `fn` before every render, to refresh gauges computed on demand (lag, queue depth),
  // until remove_collector(id). After remove_collector returns, `fn` is not running and will
  // not run again, so it may capture objects destroyed right after.
  using CollectorId = uint64_t;
  CollectorId on_collect(std::function<void()> fn);
  void remove_collector(CollectorId id);

  // The whole registry in the text exposition format.
  std::string render();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
    size_t size() const { return counters.size() + gauges.size() + histograms.size(); }
  };
  Family& family(const std::string& name, const std::string& help, Type type);
  static Labels bounded(const Family& f, const Labels& labels, bool exists);

  std::mutex collect_mu_;  // held while collectors run; taken before mu_
  std::map<CollectorId, std::function<void()>> collectors_;  // guarded by collect_mu_
  CollectorId next_collector_ = 1;
  std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Registers a collector for the lifetime of this object.
class ScopedCollector {
 public:
  ScopedCollector(Registry& registry, std::function<void()> fn)
      : registry_(registry), id_(registry.on_collect(std::move(fn))) {}
  ~ScopedCollector() { registry_.remove_collector(id_); }
  ScopedCollector(const ScopedCollector&) = delete;
  ScopedCollector& operator=(const ScopedCollector&) = delete;

 private:
  Registry& registry_;
  Registry::CollectorId id_;
};

// The process-wide registry that every stage reports to.
Registry& global();

// Stage metrics are on by default; off makes the helpers in stage_metrics.h no-ops (for
// measuring what they cost: `kvision bench`).
void set_enabled(bool on);
bool enabled();

// Label values are escaped per the exposition format (backslash, quote, newline).
std::string escape_label(const std::string& v);

}  // namespace kv::metrics
