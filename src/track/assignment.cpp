#include "track/assignment.h"

#include <algorithm>
#include <limits>

namespace kv::track {

// The shortest-augmenting-path form of the Hungarian method on an n x m matrix with n <= m
// (potentials u, v; way[] records the alternating path), transposing when rows > cols.
std::vector<std::pair<int, int>> min_cost_assignment(const std::vector<std::vector<double>>& cost,
                                                     double max_cost) {
  const int rows = static_cast<int>(cost.size());
  const int cols = rows == 0 ? 0 : static_cast<int>(cost[0].size());
  if (rows == 0 || cols == 0) return {};
  const bool transpose = rows > cols;
  const int n = transpose ? cols : rows;
  const int m = transpose ? rows : cols;
  auto at = [&](int i, int j) { return transpose ? cost[j][i] : cost[i][j]; };
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<int> p(m + 1, 0), way(m + 1, 0);  // p[j]: the row (1-based) column j is given
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(m + 1, kInf);
    std::vector<bool> used(m + 1, false);
    do {
      used[j0] = true;
      const int i0 = p[j0];
      double delta = kInf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = at(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<std::pair<int, int>> out;
  for (int j = 1; j <= m; ++j) {
    if (p[j] == 0) continue;
    const int r = transpose ? j - 1 : p[j] - 1;
    const int c = transpose ? p[j] - 1 : j - 1;
    if (cost[r][c] <= max_cost) out.emplace_back(r, c);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kv::track
