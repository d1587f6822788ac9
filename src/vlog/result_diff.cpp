#include "vlog/result_diff.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/units.h"
#include "pipeline/result_record.h"

namespace kv::vlog {
namespace {

float box_iou(const wire::BoxPx& a, const wire::BoxPx& b) {
  const float x0 = std::max(a.x, b.x);
  const float y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.x + a.w, b.x + b.w);
  const float y1 = std::min(a.y + a.h, b.y + b.h);
  const float inter = std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0);
  const float uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.f;
}

std::vector<const wire::DetectedObject*> kept(const wire::DetectionRecord& r, float min_score) {
  std::vector<const wire::DetectedObject*> out;
  for (const wire::DetectedObject& d : r.detections) {
    if (d.score >= min_score) out.push_back(&d);
  }
  return out;
}

}  // namespace

FrameChange diff_frame(const wire::DetectionRecord& a, const wire::DetectionRecord& b,
                       const DiffOptions& options, DiffReport& report) {
  const auto oa = kept(a, options.min_score);
  const auto ob = kept(b, options.min_score);
  FrameChange change{a.frame.camera, a.frame.seq, a.frame.capture_us / 1000,
                     static_cast<int64_t>(oa.size()), static_cast<int64_t>(ob.size())};
  std::vector<bool> used_a(oa.size()), used_b(ob.size());
  struct Pair {
    float iou;
    size_t i;
    size_t j;
  };
  // Greedy by IoU, first within a label, then across labels.
  for (const bool same_label : {true, false}) {
    std::vector<Pair> pairs;
    for (size_t i = 0; i < oa.size(); ++i) {
      if (used_a[i]) continue;
      for (size_t j = 0; j < ob.size(); ++j) {
        if (used_b[j] || (oa[i]->label == ob[j]->label) != same_label) continue;
        const float v = box_iou(oa[i]->box, ob[j]->box);
        if (v >= options.iou) pairs.push_back({v, i, j});
      }
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) {
      return std::tie(y.iou, x.i, x.j) < std::tie(x.iou, y.i, y.j);
    });
    for (const Pair& p : pairs) {
      if (used_a[p.i] || used_b[p.j]) continue;
      used_a[p.i] = used_b[p.j] = true;
      if (same_label) {
        for (ClassDiff* c : {&report.total, &report.classes[oa[p.i]->label]}) {
          ++c->matched;
          c->score_shift_sum += ob[p.j]->score - oa[p.i]->score;
        }
        report.iou_sum += p.iou;
      } else {
        ++change.relabelled;
        ++report.total.relabelled;
        ++report.classes[oa[p.i]->label].relabelled;
      }
    }
  }
  for (size_t i = 0; i < oa.size(); ++i) {
    ++report.total.in_a;
    ++report.classes[oa[i]->label].in_a;
    if (!used_a[i]) {
      ++change.lost;
      ++report.total.lost;
      ++report.classes[oa[i]->label].lost;
    }
  }
  for (size_t j = 0; j < ob.size(); ++j) {
    ++report.total.in_b;
    ++report.classes[ob[j]->label].in_b;
    if (!used_b[j]) {
      ++change.added;
      ++report.total.added;
      ++report.classes[ob[j]->label].added;
    }
  }
  return change;
}

void ResultDiff::add_a(wire::DetectionRecord record) {
  Key key{record.frame.camera, record.frame.session_us, record.frame.seq};
  a_[key] = std::move(record);
}

void ResultDiff::add_b(wire::DetectionRecord record) {
  Key key{record.frame.camera, record.frame.session_us, record.frame.seq};
  b_[key] = std::move(record);
}

DiffReport ResultDiff::finish(const std::string& name_a, const std::string& name_b) {
  DiffReport report;
  report.name_a = name_a;
  report.name_b = name_b;
  std::vector<FrameChange> changed;
  for (const auto& [key, a] : a_) {
    report.model_a = a.model;
    auto it = b_.find(key);
    if (it == b_.end()) {
      ++report.frames_only_a;
      continue;
    }
    report.model_b = it->second.model;
    ++report.frames_compared;
    FrameChange c = diff_frame(a, it->second, options_, report);
    if (c.changes() > 0) {
      ++report.frames_changed;
      changed.push_back(std::move(c));
    }
  }
  for (const auto& [key, b] : b_) {
    if (a_.count(key) == 0) ++report.frames_only_b;
    if (report.model_b.empty()) report.model_b = b.model;
  }
  std::stable_sort(changed.begin(), changed.end(), [](const FrameChange& x, const FrameChange& y) {
    return x.changes() > y.changes();
  });
  if (changed.size() > static_cast<size_t>(std::max(0, options_.top_frames)))
    changed.resize(static_cast<size_t>(std::max(0, options_.top_frames)));
  report.most_changed = std::move(changed);
  return report;
}

Result<TopicDiff> diff_topics(const DiffSource& source, const DiffOptions& options) {
  TopicDiff out;
  ResultDiff diff(options);
  for (const bool first : {true, false}) {
    const std::string& topic = first ? source.topic_a : source.topic_b;
    auto scan = read_time_range(source.kafka, topic, source.camera, source.range,
                                [&](const kafka::Message& m) {
                                  auto record = pipeline::detection_record(m);
                                  if (!record) {
                                    if (out.unreadable++ == 0)
                                      log_warn("diff: {}: {}", m.where(), record.error().message);
                                    return;
                                  }
                                  if (first) {
                                    diff.add_a(std::move(*record));
                                  } else {
                                    diff.add_b(std::move(*record));
                                  }
                                });
    if (!scan) return scan.error();
    (first ? out.scan_a : out.scan_b) = *scan;
  }
  out.report = diff.finish(source.topic_a, source.topic_b);
  return out;
}

namespace {

double mean(double sum, int64_t n) {
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

nlohmann::json class_json(const ClassDiff& c) {
  return {{"a", c.in_a},
          {"b", c.in_b},
          {"matched", c.matched},
          {"added", c.added},
          {"lost", c.lost},
          {"relabelled", c.relabelled},
          {"mean_score_shift", mean(c.score_shift_sum, c.matched)}};
}

}  // namespace

nlohmann::json diff_json(const DiffReport& r) {
  nlohmann::json classes = nlohmann::json::object();
  for (const auto& [label, c] : r.classes) classes[label] = class_json(c);
  nlohmann::json frames = nlohmann::json::array();
  for (const FrameChange& f : r.most_changed) {
    frames.push_back({{"camera", f.camera},
                      {"seq", f.seq},
                      {"capture_time", format_time_ms(f.capture_ms)},
                      {"capture_ms", f.capture_ms},
                      {"a", f.in_a},
                      {"b", f.in_b},
                      {"added", f.added},
                      {"lost", f.lost},
                      {"relabelled", f.relabelled}});
  }
  return {{"a", {{"topic", r.name_a}, {"model", r.model_a}}},
          {"b", {{"topic", r.name_b}, {"model", r.model_b}}},
          {"frames",
           {{"compared", r.frames_compared},
            {"changed", r.frames_changed},
            {"only_a", r.frames_only_a},
            {"only_b", r.frames_only_b}}},
          {"objects", class_json(r.total)},
          {"mean_iou", mean(r.iou_sum, r.total.matched)},
          {"classes", classes},
          {"most_changed", frames}};
}

std::string format_diff(const DiffReport& r) {
  std::string out;
  out += fmt::format("A: {} ({})\nB: {} ({})\n", r.name_a, r.model_a.empty() ? "?" : r.model_a,
                     r.name_b, r.model_b.empty() ? "?" : r.model_b);
  out += fmt::format("frames: {} compared, {} changed ({:.1f}%), {} only in A, {} only in B\n",
                     r.frames_compared, r.frames_changed,
                     100.0 * mean(static_cast<double>(r.frames_changed), r.frames_compared),
                     r.frames_only_a, r.frames_only_b);
  const ClassDiff& t = r.total;
  out += fmt::format(
      "objects: A {}, B {} ({:+}); matched {}, added {}, lost {}, relabelled {}; mean IoU "
      "{:.3f}, mean score shift {:+.3f}\n",
      t.in_a, t.in_b, t.in_b - t.in_a, t.matched, t.added, t.lost, t.relabelled,
      mean(r.iou_sum, t.matched), mean(t.score_shift_sum, t.matched));
  out += fmt::format("\n{:<16} {:>7} {:>7} {:>8} {:>7} {:>7} {:>10} {:>11}\n", "class", "A", "B",
                     "matched", "added", "lost", "relabelled", "score_shift");
  std::vector<std::pair<std::string, ClassDiff>> classes(r.classes.begin(), r.classes.end());
  std::sort(classes.begin(), classes.end(), [](const auto& x, const auto& y) {
    return x.second.in_a + x.second.in_b > y.second.in_a + y.second.in_b;
  });
  for (const auto& [label, c] : classes) {
    out += fmt::format("{:<16} {:>7} {:>7} {:>8} {:>7} {:>7} {:>10} {:>+11.3f}\n", label, c.in_a,
                       c.in_b, c.matched, c.added, c.lost, c.relabelled,
                       mean(c.score_shift_sum, c.matched));
  }
  if (!r.most_changed.empty()) {
    out +=
        fmt::format("\nmost changed frames:\n{:<16} {:>7} {:<24} {:>4} {:>4} {:>6} {:>5} {:>10}\n",
                    "camera", "seq", "captured", "A", "B", "added", "lost", "relabelled");
    for (const FrameChange& f : r.most_changed) {
      out +=
          fmt::format("{:<16} {:>7} {:<24} {:>4} {:>4} {:>6} {:>5} {:>10}\n", f.camera, f.seq,
                      format_time_ms(f.capture_ms), f.in_a, f.in_b, f.added, f.lost, f.relabelled);
    }
  }
  return out;
}

}  // namespace kv::vlog
