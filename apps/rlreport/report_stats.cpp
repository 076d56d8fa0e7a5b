#include "apps/rlreport/report_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rl::report {

namespace {

double metric_value(const Evaluation& e, const std::string& metric) {
  if (metric == "eval_success")
    return e.eval_success.value_or(std::numeric_limits<double>::quiet_NaN());
  return e.eval_mean;
}

double x_value(const Evaluation& e, XAxis axis) {
  return axis == XAxis::kSteps ? static_cast<double>(e.step) : e.wall_seconds;
}

// The value of `seed` at `x`: its latest point at or before x (none before its first).
std::optional<double> value_at(const SeedCurve& seed, double x) {
  std::optional<double> value;
  for (size_t i = 0; i < seed.x.size() && seed.x[i] <= x; ++i) value = seed.y[i];
  return value;
}

Estimate estimate(const std::vector<double>& sample, const stats::Aggregate& aggregate,
                  const stats::BootstrapSettings& bootstrap) {
  const stats::ScoresByTask scores = {sample};
  return {aggregate(scores), stats::stratified_bootstrap_interval(scores, aggregate, bootstrap)};
}

}  // namespace

std::string score_metric(const ConfigRuns& config, const std::string& requested) {
  const std::string metric = !requested.empty() ? requested
                             : config.target    ? config.target->metric
                                                : "eval_mean";
  if (metric == "eval_success") {
    for (const SeedRun& seed : config.seeds)
      if (!seed.evaluations.back().eval_success)
        throw ReportError((seed.dir / "metrics.csv").string() +
                          ": no eval_success in the final evaluation (the env reports no success)");
  }
  return metric;
}

LearningCurve learning_curve(const ConfigRuns& config, const std::string& metric, XAxis axis,
                             const stats::BootstrapSettings& bootstrap) {
  LearningCurve curve;
  std::vector<double> grid;
  double all_started = -std::numeric_limits<double>::infinity();
  for (const SeedRun& seed : config.seeds) {
    SeedCurve& points = curve.seeds.emplace_back();
    points.label = seed.label;
    for (const Evaluation& e : seed.evaluations) {
      const double y = metric_value(e, metric);
      if (std::isnan(y)) continue;
      points.x.push_back(x_value(e, axis));
      points.y.push_back(y);
    }
    if (!points.x.empty()) all_started = std::max(all_started, points.x.front());
    grid.insert(grid.end(), points.x.begin(), points.x.end());
  }
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  for (const double x : grid) {
    if (x < all_started) continue;
    std::vector<double> values;
    for (const SeedCurve& seed : curve.seeds)
      if (const auto value = value_at(seed, x)) values.push_back(*value);
    const Estimate mean = estimate(values, stats::aggregate_mean, bootstrap);
    curve.x.push_back(x);
    curve.mean.push_back(mean.value);
    curve.low.push_back(mean.ci.low);
    curve.high.push_back(mean.ci.high);
  }
  return curve;
}

ScoreSummary summarize_scores(const ConfigRuns& config, const std::string& metric,
                              std::optional<double> gap_threshold,
                              const stats::BootstrapSettings& bootstrap) {
  ScoreSummary summary;
  summary.metric = metric;
  for (const SeedRun& seed : config.seeds)
    summary.finals.push_back(metric_value(seed.evaluations.back(), metric));
  summary.mean = estimate(summary.finals, stats::aggregate_mean, bootstrap);
  summary.median = estimate(summary.finals, stats::aggregate_median, bootstrap);
  summary.iqm = estimate(summary.finals, stats::aggregate_iqm, bootstrap);
  if (!gap_threshold && config.target) gap_threshold = config.target->threshold;
  if (gap_threshold) {
    const double threshold = *gap_threshold;
    summary.gap_threshold = threshold;
    summary.optimality_gap = estimate(
        summary.finals,
        [threshold](const stats::ScoresByTask& s) { return stats::optimality_gap(s, threshold); },
        bootstrap);
  }
  return summary;
}

std::vector<double> performance_profile(const std::vector<double>& finals,
                                        const std::vector<double>& thresholds) {
  std::vector<double> fractions;
  for (const double tau : thresholds) {
    const auto above =
        std::count_if(finals.begin(), finals.end(), [tau](double s) { return s > tau; });
    fractions.push_back(static_cast<double>(above) / static_cast<double>(finals.size()));
  }
  return fractions;
}

std::vector<double> profile_thresholds(const std::vector<std::vector<double>>& all_finals,
                                       int count) {
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const auto& finals : all_finals)
    for (const double s : finals) {
      low = std::min(low, s);
      high = std::max(high, s);
    }
  if (!(low < high)) {  // One score (or none): a small range around it.
    const double centre = std::isfinite(low) ? low : 0.0;
    low = centre - 1;
    high = centre + 1;
  }
  std::vector<double> thresholds;
  for (int i = 0; i < count; ++i) thresholds.push_back(low + (high - low) * i / (count - 1));
  return thresholds;
}

std::optional<TargetReport> judge_config(const ConfigRuns& config) {
  if (!config.target) return std::nullopt;
  TargetReport report{*config.target, {}, {}};
  for (const SeedRun& seed : config.seeds) {
    std::vector<EvaluationPoint> points;
    for (const Evaluation& e : seed.evaluations) {
      const double value = metric_value(e, report.target.metric);
      if (!std::isnan(value)) points.push_back({e.step, value});
    }
    report.seeds.push_back(judge_seed(report.target, points));
  }
  report.verdict = judge_target(report.target, report.seeds);
  return report;
}

}  // namespace rl::report
