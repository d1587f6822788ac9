#include "track/mot_metrics.h"

#include <map>

#include "detect/nms.h"
#include "track/assignment.h"

namespace kv::track {
namespace {

// The frame without its ignored ground truth and the hypotheses that match it.
MotFrame counted(const MotFrame& f, float min_iou) {
  MotFrame out;
  std::vector<const MotBox*> ignored;
  for (const MotBox& g : f.gt) (g.ignore ? ignored.push_back(&g) : out.gt.push_back(g));
  std::vector<bool> drop(f.hyp.size(), false);
  if (!ignored.empty() && !f.hyp.empty()) {
    std::vector<std::vector<double>> cost(ignored.size(), std::vector<double>(f.hyp.size()));
    for (size_t i = 0; i < ignored.size(); ++i)
      for (size_t h = 0; h < f.hyp.size(); ++h)
        cost[i][h] = 1.0 - detect::iou(ignored[i]->box, f.hyp[h].box);
    for (auto [i, h] : min_cost_assignment(cost, 1.0 - min_iou))
      drop[static_cast<size_t>(h)] = true;
  }
  for (size_t h = 0; h < f.hyp.size(); ++h)
    if (!drop[h]) out.hyp.push_back(f.hyp[h]);
  return out;
}

}  // namespace

MotScores score_mot(const std::vector<MotFrame>& frames, float min_iou) {
  MotScores s;
  std::map<int64_t, int64_t> current;   // gt id -> hyp id matched in the previous frame
  std::map<int64_t, int64_t> last_hyp;  // gt id -> the hyp id it was last matched to
  std::map<std::pair<int64_t, int64_t>, int64_t> agree;  // (gt id, hyp id) -> frames matched
  std::map<int64_t, int64_t> gt_len, hyp_len;
  double iou_sum = 0;
  for (const MotFrame& raw : frames) {
    const MotFrame f = counted(raw, min_iou);
    s.gt += static_cast<int64_t>(f.gt.size());
    s.hyp += static_cast<int64_t>(f.hyp.size());
    for (const MotBox& g : f.gt) ++gt_len[g.id];
    for (const MotBox& h : f.hyp) ++hyp_len[h.id];
    // Identity agreement counts every overlapping pair, whatever CLEAR-MOT matches.
    for (const MotBox& g : f.gt)
      for (const MotBox& h : f.hyp)
        if (detect::iou(g.box, h.box) >= min_iou) ++agree[{g.id, h.id}];

    std::vector<int> gt_to_hyp(f.gt.size(), -1);
    std::vector<bool> hyp_used(f.hyp.size(), false);
    // Last frame's correspondences, kept while they still overlap.
    for (size_t g = 0; g < f.gt.size(); ++g) {
      auto it = current.find(f.gt[g].id);
      if (it == current.end()) continue;
      for (size_t h = 0; h < f.hyp.size(); ++h) {
        if (!hyp_used[h] && f.hyp[h].id == it->second &&
            detect::iou(f.gt[g].box, f.hyp[h].box) >= min_iou) {
          gt_to_hyp[g] = static_cast<int>(h);
          hyp_used[h] = true;
          break;
        }
      }
    }
    // The rest by minimum cost.
    std::vector<size_t> gs, hs;
    for (size_t g = 0; g < f.gt.size(); ++g)
      if (gt_to_hyp[g] < 0) gs.push_back(g);
    for (size_t h = 0; h < f.hyp.size(); ++h)
      if (!hyp_used[h]) hs.push_back(h);
    if (!gs.empty() && !hs.empty()) {
      std::vector<std::vector<double>> cost(gs.size(), std::vector<double>(hs.size()));
      for (size_t i = 0; i < gs.size(); ++i)
        for (size_t j = 0; j < hs.size(); ++j)
          cost[i][j] = 1.0 - detect::iou(f.gt[gs[i]].box, f.hyp[hs[j]].box);
      for (auto [i, j] : min_cost_assignment(cost, 1.0 - min_iou)) {
        gt_to_hyp[gs[static_cast<size_t>(i)]] = static_cast<int>(hs[static_cast<size_t>(j)]);
        hyp_used[hs[static_cast<size_t>(j)]] = true;
      }
    }
    std::map<int64_t, int64_t> next;
    for (size_t g = 0; g < f.gt.size(); ++g) {
      if (gt_to_hyp[g] < 0) {
        ++s.misses;
        continue;
      }
      const MotBox& h = f.hyp[static_cast<size_t>(gt_to_hyp[g])];
      ++s.matches;
      iou_sum += detect::iou(f.gt[g].box, h.box);
      auto last = last_hyp.find(f.gt[g].id);
      if (last != last_hyp.end() && last->second != h.id) ++s.id_switches;
      last_hyp[f.gt[g].id] = h.id;
      next[f.gt[g].id] = h.id;
    }
    for (size_t h = 0; h < f.hyp.size(); ++h)
      if (!hyp_used[h]) ++s.false_positives;
    current = std::move(next);
  }
  s.mota = s.gt > 0 ? 1.0 - static_cast<double>(s.misses + s.false_positives + s.id_switches) /
                                static_cast<double>(s.gt)
                    : 0;
  s.motp = s.matches > 0 ? iou_sum / static_cast<double>(s.matches) : 0;

  // Identity: pair trajectories one to one for the most agreeing frames.
  std::vector<int64_t> gt_ids, hyp_ids;
  for (const auto& [id, n] : gt_len) gt_ids.push_back(id);
  for (const auto& [id, n] : hyp_len) hyp_ids.push_back(id);
  s.gt_tracks = static_cast<int64_t>(gt_ids.size());
  s.hyp_tracks = static_cast<int64_t>(hyp_ids.size());
  if (!gt_ids.empty() && !hyp_ids.empty()) {
    std::vector<std::vector<double>> cost(gt_ids.size(), std::vector<double>(hyp_ids.size(), 0));
    for (size_t i = 0; i < gt_ids.size(); ++i)
      for (size_t j = 0; j < hyp_ids.size(); ++j)
        if (auto it = agree.find({gt_ids[i], hyp_ids[j]}); it != agree.end())
          cost[i][j] = -static_cast<double>(it->second);
    for (auto [i, j] : min_cost_assignment(cost, 0.0)) {
      if (auto it = agree.find({gt_ids[static_cast<size_t>(i)], hyp_ids[static_cast<size_t>(j)]});
          it != agree.end())
        s.idtp += it->second;
    }
  }
  s.idf1 =
      s.gt + s.hyp > 0 ? 2.0 * static_cast<double>(s.idtp) / static_cast<double>(s.gt + s.hyp) : 0;
  s.idp = s.hyp > 0 ? static_cast<double>(s.idtp) / static_cast<double>(s.hyp) : 0;
  s.idr = s.gt > 0 ? static_cast<double>(s.idtp) / static_cast<double>(s.gt) : 0;
  return s;
}

}  // namespace kv::track
