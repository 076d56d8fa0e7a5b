#include "core/run_statistics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/rng.h"

namespace rl::stats {
namespace {

void check_sample(std::span<const double> sample, const char* what) {
  if (sample.empty()) throw std::invalid_argument(std::string(what) + ": no scores");
  for (double x : sample) {
    if (!std::isfinite(x)) {
      throw std::invalid_argument(std::string(what) + ": score " + std::to_string(x) +
                                  " is not a finite number");
    }
  }
}

void check_table(const ScoresByTask& scores, const char* what) {
  if (scores.empty()) throw std::invalid_argument(std::string(what) + ": no tasks");
  for (const std::vector<double>& task : scores) check_sample(task, what);
}

std::vector<double> sorted(std::span<const double> sample) {
  std::vector<double> copy(sample.begin(), sample.end());
  std::sort(copy.begin(), copy.end());
  return copy;
}

// Percentile of an already sorted, non-empty sample.
double sorted_percentile(const std::vector<double>& values, double q) {
  const double rank = q / 100.0 * static_cast<double>(values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = rank - static_cast<double>(below);
  return values[below] + fraction * (values[above] - values[below]);
}

std::vector<double> task_means(const ScoresByTask& scores) {
  std::vector<double> means;
  means.reserve(scores.size());
  for (const std::vector<double>& task : scores) means.push_back(mean(task));
  return means;
}

std::vector<double> pooled(const ScoresByTask& scores) {
  std::vector<double> all;
  for (const std::vector<double>& task : scores) all.insert(all.end(), task.begin(), task.end());
  return all;
}

// Mann-Whitney U of x over y divided by |x| |y|: P(X > Y) + P(X = Y) / 2.
double pairwise_win_rate(const std::vector<double>& x, const std::vector<double>& y) {
  double wins = 0;
  for (double a : x) {
    for (double b : y) wins += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
  }
  return wins / (static_cast<double>(x.size()) * static_cast<double>(y.size()));
}

}  // namespace

double mean(std::span<const double> sample) {
  check_sample(sample, "mean");
  double sum = 0;
  for (double x : sample) sum += x;
  return sum / static_cast<double>(sample.size());
}

double median(std::span<const double> sample) {
  check_sample(sample, "median");
  return sorted_percentile(sorted(sample), 50.0);
}

double interquartile_mean(std::span<const double> sample) {
  check_sample(sample, "interquartile mean");
  const std::vector<double> values = sorted(sample);
  const size_t cut = values.size() / 4;
  return mean(std::span<const double>(values).subspan(cut, values.size() - 2 * cut));
}

double percentile(std::span<const double> sample, double q) {
  check_sample(sample, "percentile");
  if (!(q >= 0 && q <= 100)) {
    throw std::invalid_argument("percentile: q must be in [0, 100], got " + std::to_string(q));
  }
  return sorted_percentile(sorted(sample), q);
}

double aggregate_mean(const ScoresByTask& scores) {
  check_table(scores, "aggregate mean");
  return mean(task_means(scores));
}

double aggregate_median(const ScoresByTask& scores) {
  check_table(scores, "aggregate median");
  return median(task_means(scores));
}

double aggregate_iqm(const ScoresByTask& scores) {
  check_table(scores, "aggregate IQM");
  return interquartile_mean(pooled(scores));
}

double optimality_gap(const ScoresByTask& scores, double threshold) {
  check_table(scores, "optimality gap");
  std::vector<double> shortfalls = pooled(scores);
  for (double& x : shortfalls) x = std::max(threshold - x, 0.0);
  return mean(shortfalls);
}

double probability_of_improvement(const ScoresByTask& x, const ScoresByTask& y) {
  check_table(x, "probability of improvement");
  check_table(y, "probability of improvement");
  if (x.size() != y.size()) {
    throw std::invalid_argument("probability of improvement: " + std::to_string(x.size()) +
                                " tasks against " + std::to_string(y.size()));
  }
  double sum = 0;
  for (size_t task = 0; task < x.size(); ++task) sum += pairwise_win_rate(x[task], y[task]);
  return sum / static_cast<double>(x.size());
}

Interval percentile_interval(std::span<const double> statistics, double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    throw std::invalid_argument("percentile interval: confidence must be in (0, 1), got " +
                                std::to_string(confidence));
  }
  check_sample(statistics, "percentile interval");
  const std::vector<double> values = sorted(statistics);
  const double tail = (1 - confidence) / 2 * 100;
  return {sorted_percentile(values, tail), sorted_percentile(values, 100 - tail)};
}

Interval stratified_bootstrap_interval(const ScoresByTask& scores, const Aggregate& aggregate,
                                       const BootstrapSettings& settings) {
  check_table(scores, "stratified bootstrap");
  if (settings.resamples < 1) {
    throw std::invalid_argument("stratified bootstrap: resamples must be >= 1, got " +
                                std::to_string(settings.resamples));
  }
  Rng rng(settings.seed);
  ScoresByTask replicate = scores;
  std::vector<double> statistics;
  statistics.reserve(static_cast<size_t>(settings.resamples));
  for (int r = 0; r < settings.resamples; ++r) {
    for (size_t task = 0; task < scores.size(); ++task) {
      const std::vector<double>& runs = scores[task];
      for (double& x : replicate[task]) x = runs[rng.below(runs.size())];
    }
    statistics.push_back(aggregate(replicate));
  }
  return percentile_interval(statistics, settings.confidence);
}

}  // namespace rl::stats
