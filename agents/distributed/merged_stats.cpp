#include "agents/distributed/merged_stats.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace rl::distributed {

// `current` is merged_ combined with this rank's new samples (Chan et al.'s merge). The new
// samples' moments follow from the two by inverting that merge; the ranks then sum, per element,
// their counts, their deviations of the new means from the shared old mean, and their squared
// deviations about it, from which the pooled new samples' mean and m2 follow. Deviations about
// the shared old mean keep the sums well conditioned.
RunningStats MergedStats::merge(Collectives& collectives, const RunningStats& current) {
  const size_t dim = merged_.dim();
  if (current.dim() != dim) {
    throw std::invalid_argument("merged statistics: dimension " + std::to_string(current.dim()) +
                                " differs from " + std::to_string(dim));
  }
  const double old_count = merged_.count(), total = current.count();
  const double count = total - old_count;  // This rank's new samples.
  if (count < 0) {
    throw std::invalid_argument("merged statistics: " + std::to_string(total) +
                                " samples, fewer than the " + std::to_string(old_count) +
                                " of the previous merge");
  }
  // [count, count * (mean - old mean) per element, m2 + count * (mean - old mean)^2 per element]
  std::vector<double> sums(1 + 2 * dim, 0.0);
  sums[0] = count;
  for (size_t i = 0; count > 0 && i < dim; ++i) {
    const double old_mean = merged_.mean(i);
    const double mean = (total * current.mean(i) - old_count * old_mean) / count;
    const double deviation = mean - old_mean;
    const double m2 = std::max(
        0.0, current.m2(i) - merged_.m2(i) - deviation * deviation * old_count * count / total);
    sums[1 + i] = count * deviation;
    sums[1 + dim + i] = m2 + count * deviation * deviation;
  }
  collectives.sum(sums);
  const double new_count = sums[0];
  if (new_count > 0) {
    std::vector<double> mean(dim), m2(dim);
    for (size_t i = 0; i < dim; ++i) {
      const double deviation = sums[1 + i] / new_count;
      mean[i] = merged_.mean(i) + deviation;
      m2[i] = std::max(0.0, sums[1 + dim + i] - new_count * deviation * deviation);
    }
    merged_.merge(RunningStats::from_moments(new_count, std::move(mean), std::move(m2)));
  }
  return merged_;
}

}  // namespace rl::distributed
