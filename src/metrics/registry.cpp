#include "metrics/registry.h"

#include <cmath>

#include <fmt/format.h>

namespace kv::metrics {

void Counter::add(double v) {
  double cur = value_.load();
  while (!value_.compare_exchange_weak(cur, cur + v)) {
  }
}

void Gauge::add(double v) {
  double cur = value_.load();
  while (!value_.compare_exchange_weak(cur, cur + v)) {
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  std::lock_guard lock(mu_);
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string label_text(const Labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{}=\"{}\"", labels[i].first, escape_label(labels[i].second));
  }
  if (!extra.empty()) out += (labels.empty() ? "" : ",") + extra;
  return out + "}";
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

Registry::Family& Registry::family(const std::string& name, const std::string& help, Type type) {
  auto [it, created] = families_.try_emplace(name);
  if (created) {
    it->second.type = type;
    it->second.help = help;
  }
  return it->second;
}

Labels Registry::bounded(const Family& f, const Labels& labels, bool exists) {
  if (exists || f.size() < kMaxSeriesPerFamily - 1) return labels;
  Labels other = labels;
  for (auto& [k, v] : other) v = "_other";
  return other;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Type::kCounter);
  const Labels key = bounded(f, labels, f.counters.count(labels) > 0);
  auto& slot = f.counters[key];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Type::kGauge);
  const Labels key = bounded(f, labels, f.gauges.count(labels) > 0);
  auto& slot = f.gauges[key];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const Labels& labels, const std::vector<double>& bounds) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Type::kHistogram);
  const Labels key = bounded(f, labels, f.histograms.count(labels) > 0);
  auto& slot = f.histograms[key];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void Registry::remove_gauge(const std::string& name, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) it->second.gauges.erase(labels);
}

Registry::CollectorId Registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(collect_mu_);
  const CollectorId id = next_collector_++;
  collectors_.emplace(id, std::move(fn));
  return id;
}

void Registry::remove_collector(CollectorId id) {
  std::lock_guard lock(collect_mu_);
  collectors_.erase(id);
}

std::string Registry::render() {
  {
    std::lock_guard collect(collect_mu_);
    for (const auto& [id, fn] : collectors_) fn();  // they may register series (mu_)
  }
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (f.size() == 0) continue;
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, type);
    for (const auto& [labels, c] : f.counters)
      out += fmt::format("{}{} {}\n", name, label_text(labels), number(c->value()));
    for (const auto& [labels, g] : f.gauges)
      out += fmt::format("{}{} {}\n", name, label_text(labels), number(g->value()));
    for (const auto& [labels, h] : f.histograms) {
      const Histogram::Snapshot s = h->snapshot();
      for (size_t i = 0; i < s.bounds.size(); ++i) {
        out += fmt::format("{}_bucket{} {}\n", name,
                           label_text(labels, fmt::format("le=\"{}\"", number(s.bounds[i]))),
                           s.cumulative[i]);
      }
      out += fmt::format("{}_bucket{} {}\n", name, label_text(labels, "le=\"+Inf\""),
                         s.cumulative.back());
      out += fmt::format("{}_sum{} {}\n", name, label_text(labels), number(s.sum));
      out += fmt::format("{}_count{} {}\n", name, label_text(labels), s.count);
    }
  }
  return out;
}

namespace {
std::atomic<bool> g_enabled{true};
}  // namespace

void set_enabled(bool on) {
  g_enabled = on;
}

bool enabled() {
  return g_enabled.load(std::memory_order_relaxed);
}

Registry& global() {
  static Registry registry;
  return registry;
}

}  // namespace kv::metrics
