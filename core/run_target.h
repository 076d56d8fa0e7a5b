// A config's target as data: what a trained agent must reach, by when, on how many seeds.
//
//   target: {metric: eval_mean, threshold: 475, within_steps: 50000, seeds: 5, of_seeds: 4}
//
// reads "the evaluation mean reaches 475 within 50k env steps on at least 4 of 5
// seeds". A seed is judged by its final policy within the budget: the last evaluation at or
// before within_steps (metrics.csv's eval rows). rltrain reads the section with the rest of the
// config (agents/run_config.h); rlreport reads it back from a run folder's config.yaml.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/config.h"

namespace rl {

struct RunTarget {
  std::string metric;        // "eval_mean" or "eval_success" (a metrics.csv column).
  double threshold = 0;      // Met when the metric is >= threshold.
  int64_t within_steps = 0;  // Env steps: the judged evaluation is the last one at or before.
  int64_t seeds = 5;         // Seeds the claim is about,
  int64_t of_seeds = 4;      // of which at least this many must meet it.
};

// Reads `root`'s `target` section strictly when there is one (std::nullopt otherwise): metric,
// threshold and within_steps are required; of_seeds <= seeds; an eval_success threshold lies
// in [0, 1]. Throws ConfigError naming the file, line and key.
std::optional<RunTarget> read_run_target(ConfigSection& root);

// One evaluation of a run: env steps and the metric's value.
struct EvaluationPoint {
  int64_t step = 0;
  double value = 0;
};

// How one seed fares: the evaluation judged (the last at or before within_steps; none when
// the run has no evaluation that early) and whether it reaches the threshold.
struct SeedVerdict {
  std::optional<EvaluationPoint> judged;
  bool met = false;
};

// Judges one seed's evaluations (in step order) against `target`.
SeedVerdict judge_seed(const RunTarget& target, std::span<const EvaluationPoint> evaluations);

// The config's verdict from its seeds': met when at least of_seeds seeds meet the target;
// `complete` says whether all `target.seeds` seeds were there to judge.
struct TargetVerdict {
  int64_t seeds_met = 0;
  int64_t seeds_judged = 0;
  bool met = false;
  bool complete = false;
};
TargetVerdict judge_target(const RunTarget& target, std::span<const SeedVerdict> seeds);

// "eval_mean >= 475 within 50000 steps on 4 of 5 seeds".
std::string describe_target(const RunTarget& target);

}  // namespace rl
