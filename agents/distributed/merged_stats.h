// Running statistics (core/running_stats.h) kept equal on every rank of a data-parallel run:
// the observation normalizer's per-element mean and variance, and the reward normalizer's
// return variance. Each rank adds its own samples between merges; a merge pools what every rank
// added since the previous one (a parallel Welford merge through one all-reduce), so afterwards
// every rank holds the statistics of all the ranks' samples.
#pragma once

#include "agents/distributed/collectives.h"
#include "core/running_stats.h"

namespace rl::distributed {

class MergedStats {
 public:
  // `start`: the statistics every rank holds now (the same on every rank: empty, or what a
  // resume restored).
  explicit MergedStats(RunningStats start) : merged_(std::move(start)) {}

  // Every rank calls it at the same point with its current statistics (the start or the
  // previous merge's result, plus the samples it added since). Returns the statistics of every
  // rank's samples, the same on every rank. Throws std::invalid_argument when `current` has
  // another dimension or fewer samples than the previous merge's result.
  RunningStats merge(Collectives& collectives, const RunningStats& current);

 private:
  RunningStats merged_;  // The result of the previous merge (or the start).
};

}  // namespace rl::distributed
