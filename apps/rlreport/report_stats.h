// The numbers rlreport shows, computed from loaded runs with core/run_statistics.h: learning
// curves across seeds, the final-score aggregates with stratified-bootstrap intervals,
// probabilities of improvement, performance profiles and target verdicts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/rlreport/run_data.h"
#include "core/run_statistics.h"

namespace rl::report {

enum class XAxis { kSteps, kWallSeconds };

// The metric a config is scored by: `requested` when given, else its target's metric, else
// eval_mean. Throws ReportError when a seed lacks eval_success values and that is asked for.
std::string score_metric(const ConfigRuns& config, const std::string& requested);

// One seed's evaluations as (x, value) points of `metric`.
struct SeedCurve {
  std::string label;
  std::vector<double> x, y;
};

// The seeds' curves and, at every x where any seed evaluated (from the point where all seeds
// have started), the mean over seeds and its 95% bootstrap interval. A seed counts with its
// latest evaluation at or before x (its final one after it ended).
struct LearningCurve {
  std::vector<SeedCurve> seeds;
  std::vector<double> x, mean, low, high;
};
LearningCurve learning_curve(const ConfigRuns& config, const std::string& metric, XAxis axis,
                             const stats::BootstrapSettings& bootstrap);

// A point estimate and its interval.
struct Estimate {
  double value = 0;
  stats::Interval ci;
};

// The final scores of a config (each seed's last evaluation of `metric`) and their aggregates,
// as rliable computes them with the seeds as the runs of one task.
struct ScoreSummary {
  std::string metric;
  std::vector<double> finals;  // Per seed, in the config's seed order.
  Estimate mean, median, iqm;
  std::optional<Estimate> optimality_gap;  // When a gap threshold is known.
  std::optional<double> gap_threshold;
};
// `gap_threshold`: the score counted as good enough for the optimality gap (the target's
// threshold by default; none: no gap).
ScoreSummary summarize_scores(const ConfigRuns& config, const std::string& metric,
                              std::optional<double> gap_threshold,
                              const stats::BootstrapSettings& bootstrap);

// The fraction of `finals` above each of `thresholds` (rliable's performance profile).
std::vector<double> performance_profile(const std::vector<double>& finals,
                                        const std::vector<double>& thresholds);
// `count` evenly spaced thresholds from the lowest to the highest of all scores given.
std::vector<double> profile_thresholds(const std::vector<std::vector<double>>& all_finals,
                                       int count = 101);

// A config's target verdict, with each seed's.
struct TargetReport {
  RunTarget target;
  std::vector<SeedVerdict> seeds;
  TargetVerdict verdict;
};
std::optional<TargetReport> judge_config(const ConfigRuns& config);

}  // namespace rl::report
