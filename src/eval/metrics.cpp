#include "eval/metrics.h"

#include <algorithm>
#include <array>
#include <set>

#include "detect/nms.h"

namespace kv::eval {
namespace {

constexpr std::array<double, 10> kIouThresholds = {0.50, 0.55, 0.60, 0.65, 0.70,
                                                   0.75, 0.80, 0.85, 0.90, 0.95};

// Outcome of one detection at one IoU threshold.
enum class Match : uint8_t { kFalse, kTrue, kIgnored };

// pycocotools' evaluateImg for one image and class: `dets` sorted by descending score, ground
// truth with the counted boxes first.
void match_image(const std::vector<const detect::Detection*>& dets,
                 const std::vector<const GroundTruth*>& gts, double threshold,
                 std::vector<Match>& out) {
  std::vector<bool> taken(gts.size(), false);
  for (const detect::Detection* d : dets) {
    double best = std::min(threshold, 1 - 1e-10);
    int found = -1;
    for (size_t g = 0; g < gts.size(); ++g) {
      if (taken[g] && !gts[g]->ignore) continue;  // a counted box matches once
      // Past the counted boxes with a match in hand: ignored ones cannot do better.
      if (found >= 0 && !gts[static_cast<size_t>(found)]->ignore && gts[g]->ignore) break;
      const double iou = detect::iou(d->box, gts[g]->box);
      if (iou < best) continue;
      best = iou;
      found = static_cast<int>(g);
    }
    if (found < 0) {
      out.push_back(Match::kFalse);
    } else {
      taken[static_cast<size_t>(found)] = true;
      out.push_back(gts[static_cast<size_t>(found)]->ignore ? Match::kIgnored : Match::kTrue);
    }
  }
}

}  // namespace

double average_precision_101(const std::vector<bool>& hits, int positives) {
  if (positives <= 0) return 0;
  std::vector<double> precision;
  std::vector<double> recall;
  double tp = 0;
  double fp = 0;
  for (bool hit : hits) {
    (hit ? tp : fp) += 1;
    recall.push_back(tp / positives);
    precision.push_back(tp / (tp + fp));
  }
  // Monotone: each precision is the best at any higher recall.
  for (size_t i = precision.size(); i-- > 1;)
    precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double sum = 0;
  for (int k = 0; k <= 100; ++k) {
    const double r = k / 100.0;
    const auto it = std::lower_bound(recall.begin(), recall.end(), r);
    if (it != recall.end()) sum += precision[static_cast<size_t>(it - recall.begin())];
  }
  return sum / 101.0;
}

EvalReport evaluate(const std::vector<int64_t>& images, const std::vector<GroundTruth>& truth,
                    const std::vector<ScoredDetection>& detections, const EvalParams& params) {
  EvalReport report;
  report.images = static_cast<int>(images.size());
  const std::set<int64_t> image_set(images.begin(), images.end());

  // Per (class, image): ground truth (counted first) and detections (best first, capped).
  std::map<int, std::map<int64_t, std::vector<const GroundTruth*>>> gt_by;
  std::map<int, std::map<int64_t, std::vector<const detect::Detection*>>> dt_by;
  std::map<int, int> counted;
  for (const GroundTruth& g : truth) {
    if (image_set.count(g.image_id) == 0) continue;
    gt_by[g.class_id][g.image_id].push_back(&g);
    if (!g.ignore) ++counted[g.class_id];
  }
  for (const ScoredDetection& d : detections) {
    if (image_set.count(d.image_id) == 0) continue;
    dt_by[d.det.class_id][d.image_id].push_back(&d.det);
    ++report.detections;
  }
  std::vector<int> classes;
  for (const auto& [c, n] : counted) {
    if (n == 0) continue;
    if (!params.only_classes.empty() &&
        std::find(params.only_classes.begin(), params.only_classes.end(), c) ==
            params.only_classes.end())
      continue;
    classes.push_back(c);
  }

  for (int c : classes) {
    // Every detection of the class with its score and its outcome per threshold.
    struct Scored {
      float score;
      std::array<Match, kIouThresholds.size()> match;
    };
    std::vector<Scored> all;
    for (auto& [image, dets] : dt_by[c]) {
      std::stable_sort(dets.begin(), dets.end(),
                       [](const auto* a, const auto* b) { return a->score > b->score; });
      if (dets.size() > params.max_detections_per_image)
        dets.resize(params.max_detections_per_image);
      std::vector<const GroundTruth*> gts = gt_by[c][image];
      std::stable_partition(gts.begin(), gts.end(), [](const auto* g) { return !g->ignore; });
      std::vector<Scored> scored(dets.size());
      for (size_t t = 0; t < kIouThresholds.size(); ++t) {
        std::vector<Match> m;
        match_image(dets, gts, kIouThresholds[t], m);
        for (size_t i = 0; i < dets.size(); ++i) {
          scored[i].score = dets[i]->score;
          scored[i].match[t] = m[i];
        }
      }
      all.insert(all.end(), scored.begin(), scored.end());
    }
    // pycocotools sorts with a stable merge sort on -score; ties keep image order.
    std::stable_sort(all.begin(), all.end(),
                     [](const Scored& a, const Scored& b) { return a.score > b.score; });
    ClassAp cls;
    cls.class_id = c;
    cls.gt_count = counted[c];
    double sum = 0;
    for (size_t t = 0; t < kIouThresholds.size(); ++t) {
      std::vector<bool> hits;
      for (const Scored& s : all) {
        if (s.match[t] != Match::kIgnored) hits.push_back(s.match[t] == Match::kTrue);
      }
      const double ap = average_precision_101(hits, cls.gt_count);
      sum += ap;
      if (t == 0) cls.ap50 = ap;
      if (t == 5) cls.ap75 = ap;
    }
    cls.ap = sum / static_cast<double>(kIouThresholds.size());
    report.classes.push_back(cls);
  }
  if (!report.classes.empty()) {
    for (const ClassAp& c : report.classes) {
      report.map += c.ap;
      report.ap50 += c.ap50;
      report.ap75 += c.ap75;
    }
    const double n = static_cast<double>(report.classes.size());
    report.map /= n;
    report.ap50 /= n;
    report.ap75 /= n;
  }
  return report;
}

}  // namespace kv::eval
