// Advantage normalization pooled over the ranks for every minibatch of an epoch in one
// all-reduce (DD-PPO normalizes each minibatch with the statistics of the union of the ranks'
// minibatches). Pooling the epoch's minibatches up front replaces one small all-reduce per
// minibatch, each a point where every rank waits for the slowest, by one per epoch.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "agents/distributed/collectives.h"

namespace rl::distributed {

class EpochAdvantageMoments {
 public:
  // Pools, over the ranks, the count, sum and sum of squares of the advantages of each
  // minibatch of an epoch: minibatch k holds rows order[k * per_minibatch ...] of `advantages`,
  // for every whole minibatch in `rows` (a collective: every rank calls it alike).
  void pool(Collectives& collectives, const float* advantages, const int64_t* order, int64_t rows,
            int64_t per_minibatch);
  // Normalizes the next minibatch's advantages (gathered in `order`'s order) to mean 0, std 1
  // with its pooled statistics and returns true; false when no pooled minibatch is left.
  bool normalize_next(std::span<float> advantages);
  void clear();

 private:
  std::vector<double> pooled_;  // Count, sum and sum of squares of each minibatch, pooled.
  size_t next_ = 0;
};

// Normalizes `advantages` to (a - mean) / (std + 1e-8) with the mean and (sample) std of the
// pooled `moments` (count, sum, sum of squares), as PPO does; leaves them alone for a count
// under 2.
void normalize_with_moments(std::span<float> advantages, const double moments[3]);

}  // namespace rl::distributed
