// Statistics over the final scores of many training runs, as rliable computes them (Agarwal
// et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice", 2021): point
// estimates (mean, median, interquartile mean), aggregates over several tasks, optimality gap,
// probability of improvement, and stratified-bootstrap confidence intervals. Plain C++, no
// torch: used by rltrain --seeds and meant for rlreport.
//
//   ScoresByTask scores = {{412.0, 388.5, 500.0, 120.3, 455.1}};  // one task, five seeds
//   double iqm = aggregate_iqm(scores);
//   Interval ci = stratified_bootstrap_interval(scores, aggregate_iqm);  // 95%, 2000 resamples
//
// Every function taking scores throws std::invalid_argument when a sample (or a task) is
// empty or a score is not finite.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace rl::stats {

// Scores grouped by task: scores[task][run]. Tasks may hold different numbers of runs.
using ScoresByTask = std::vector<std::vector<double>>;

// Plain statistics of one sample.
double mean(std::span<const double> sample);
// The middle value; the mean of the two middle values for an even count (numpy.median).
double median(std::span<const double> sample);
// The mean of the middle 50%: sorted, floor(n / 4) scores cut from each end, the rest averaged
// (scipy.stats.trim_mean(sample, 0.25), which rliable uses; for n < 4 nothing is cut).
double interquartile_mean(std::span<const double> sample);
// The q-th percentile (q in [0, 100]) with linear interpolation between the closest ranks
// (numpy.percentile's default).
double percentile(std::span<const double> sample, double q);

// Aggregates over tasks, as rliable's aggregate_* functions:
// the mean over tasks of each task's mean score,
double aggregate_mean(const ScoresByTask& scores);
// the median over tasks of each task's mean score,
double aggregate_median(const ScoresByTask& scores);
// the interquartile mean of all scores pooled,
double aggregate_iqm(const ScoresByTask& scores);
// and how far the scores fall short of `threshold` on average: the mean over all scores of
// max(threshold - score, 0) (lower is better; rliable's gamma, 1 for normalized scores).
double optimality_gap(const ScoresByTask& scores, double threshold = 1.0);

// The probability that a run of X scores higher than a run of Y on a task picked at random
// (ties count half): per task, the Mann-Whitney U statistic over (runs of X) * (runs of Y),
// averaged over tasks. x and y must have the same number of tasks.
double probability_of_improvement(const ScoresByTask& x, const ScoresByTask& y);

struct Interval {
  double low = 0;
  double high = 0;
};

// How a bootstrap interval is drawn. The defaults are what rltrain --seeds writes.
struct BootstrapSettings {
  int resamples = 2000;      // Bootstrap replicates, >= 1.
  double confidence = 0.95;  // Interval size, in (0, 1).
  uint64_t seed = 0;         // Seed of the resampling RNG: the same inputs give the same interval.
};

// A statistic of a score table (aggregate_mean, aggregate_iqm, a lambda, ...).
using Aggregate = std::function<double(const ScoresByTask&)>;

// The percentile interval (rliable's default method) of `statistics`: its
// (1 - confidence) / 2 and (1 + confidence) / 2 quantiles, by percentile() above.
Interval percentile_interval(std::span<const double> statistics, double confidence);

// Stratified bootstrap confidence interval of aggregate(scores): each replicate redraws, with
// replacement, as many runs as each task has from that task's own runs (with one task: the
// seeds are resampled), applies `aggregate`, and the interval is percentile_interval() of the
// replicates. Throws std::invalid_argument for bad settings.
Interval stratified_bootstrap_interval(const ScoresByTask& scores, const Aggregate& aggregate,
                                       const BootstrapSettings& settings = {});

}  // namespace rl::stats
