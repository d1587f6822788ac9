#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace kv {

// The q-quantile (0..1) by the nearest-rank method; 0 for an empty sample. Sorts in place.
inline double percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(q * static_cast<double>(values.size()));
  const size_t idx =
      static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  return values[idx];
}

}  // namespace kv
