// Minimum-cost bipartite assignment (the Hungarian method, O(n^3)), for matching tracks to
// detections and ground truth to hypotheses.
#pragma once

#include <utility>
#include <vector>

namespace kv::track {

// cost[r][c] for rows x cols (rectangular allowed; every row the same length). Returns the
// (row, col) pairs of a minimum-cost assignment of min(rows, cols) pairs, leaving out pairs
// whose cost exceeds `max_cost` (they count as unmatched). Sorted by row.
std::vector<std::pair<int, int>> min_cost_assignment(const std::vector<std::vector<double>>& cost,
                                                     double max_cost);

}  // namespace kv::track
