#include "agents/distributed/advantage_moments.h"

#include <algorithm>
#include <cmath>

namespace rl::distributed {

void EpochAdvantageMoments::pool(Collectives& collectives, const float* advantages,
                                 const int64_t* order, int64_t rows, int64_t per_minibatch) {
  clear();
  const int64_t count = per_minibatch > 0 ? rows / per_minibatch : 0;
  std::vector<double> sums(static_cast<size_t>(3 * count), 0.0);  // Per minibatch: n, sum, sum².
  for (int64_t k = 0; k < count; ++k) {
    double* moments = sums.data() + 3 * k;
    moments[0] = static_cast<double>(per_minibatch);
    for (int64_t i = k * per_minibatch; i < (k + 1) * per_minibatch; ++i) {
      const float a = advantages[order[i]];
      moments[1] += a;
      moments[2] += static_cast<double>(a) * a;
    }
  }
  collectives.sum(sums);
  pooled_ = std::move(sums);
}

bool EpochAdvantageMoments::normalize_next(std::span<float> advantages) {
  if (3 * next_ >= pooled_.size()) return false;
  normalize_with_moments(advantages, pooled_.data() + 3 * next_++);
  return true;
}

void EpochAdvantageMoments::clear() {
  pooled_.clear();
  next_ = 0;
}

void normalize_with_moments(std::span<float> advantages, const double moments[3]) {
  const double n = moments[0];
  if (n < 2) return;
  const double mean = moments[1] / n;
  const double variance = std::max(0.0, (moments[2] - n * mean * mean) / (n - 1));
  const double scale = 1.0 / (std::sqrt(variance) + 1e-8);
  for (float& a : advantages) a = static_cast<float>((a - mean) * scale);
}

}  // namespace rl::distributed
