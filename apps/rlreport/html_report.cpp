#include "apps/rlreport/html_report.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "apps/rlreport/svg_chart.h"
#include "core/replay_file.h"
#include "core/tensorboard.h"

namespace rl::report {

namespace {

// Tableau's ten colours: distinct, and readable on white.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

const char* colour_of(size_t config) { return kPalette[config % std::size(kPalette)]; }

constexpr char kStyle[] = R"(
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.ci { color: #666; font-size: 90%; }
.met { color: #1a7f37; font-weight: bold; } .not { color: #b42318; font-weight: bold; }
.chart text { font-size: 12px; fill: #333; } .chart .title { font-size: 14px; font-weight: bold; }
.chart .grid { stroke: #dde3ea; stroke-width: 1; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.episode { display: inline-block; margin: 8px 16px 8px 0; vertical-align: top; }
.note { color: #666; font-size: 90%; }
)";

// Every digit: the value reads back exactly.
std::string exact(double v) { return format_number("%.17g", v); }

// Four significant digits, no exponent for scores up to ten million.
std::string shown(double v) {
  return format_number(std::fabs(v) >= 1000 && std::fabs(v) < 1e7 ? "%.1f" : "%.4g", v);
}

std::string stat_cell(const std::string& config, const std::string& stat, const Estimate& e) {
  return "<td data-config=\"" + escape_html(config) + "\" data-stat=\"" + stat +
         "\" data-value=\"" + exact(e.value) + "\" data-low=\"" + exact(e.ci.low) +
         "\" data-high=\"" + exact(e.ci.high) + "\">" + shown(e.value) + " <span class=\"ci\">[" +
         shown(e.ci.low) + ", " + shown(e.ci.high) + "]</span></td>";
}

std::string axis_label(XAxis axis) { return axis == XAxis::kSteps ? "env steps" : "wall time (s)"; }

std::string curve_chart(const std::string& title, const std::string& metric, XAxis axis,
                        const std::vector<std::pair<size_t, const LearningCurve*>>& curves,
                        bool with_seeds) {
  Chart chart;
  chart.title = title;
  chart.x_label = axis_label(axis);
  chart.y_label = metric + (with_seeds ? "" : " (mean over seeds)");
  for (const auto& [index, curve] : curves)
    chart.bands.push_back({curve->x, curve->low, curve->high, colour_of(index), 0.2});
  for (const auto& [index, curve] : curves) {
    if (!with_seeds) continue;
    for (const SeedCurve& seed : curve->seeds)
      chart.lines.push_back({seed.x, seed.y, colour_of(index), 1.2, 0.45, false, ""});
  }
  for (const auto& [index, curve] : curves)
    chart.lines.push_back({curve->x, curve->mean, colour_of(index), 2.5, 1, false, ""});
  return svg_chart(chart);
}

struct ConfigResults {
  std::string metric;
  LearningCurve curve;
  ScoreSummary scores;
  std::optional<TargetReport> target;
};

std::string target_cell(const std::optional<TargetReport>& target) {
  if (!target) return "<td class=\"note\">no target</td>";
  const TargetVerdict& v = target->verdict;
  std::string text =
      v.met ? "<span class=\"met\">met</span>" : "<span class=\"not\">not met</span>";
  text += " " + std::to_string(v.seeds_met) + "/" + std::to_string(v.seeds_judged) +
          " seeds, needs " + std::to_string(target->target.of_seeds);
  if (!v.complete)
    text += " <span class=\"note\">(incomplete: the target is about " +
            std::to_string(target->target.seeds) + ")</span>";
  return "<td data-target=\"" + std::string(v.met ? "met" : "not met") + "\">" + text + "</td>";
}

std::string score_table(const std::vector<ConfigRuns>& configs,
                        const std::vector<ConfigResults>& results) {
  std::string html =
      "<table id=\"scores\"><tr><th>config</th><th>metric</th><th>seeds</th><th>IQM</th>"
      "<th>mean</th><th>median</th><th>optimality gap</th><th>final per seed</th><th>target"
      "</th></tr>";
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string& name = configs[i].name;
    const ScoreSummary& s = results[i].scores;
    html += "<tr><td><span style=\"color:" + std::string(colour_of(i)) + "\">&#9632;</span> " +
            escape_html(name) + "</td><td>" + s.metric + "</td><td>" +
            std::to_string(s.finals.size()) + "</td>";
    html += stat_cell(name, "iqm", s.iqm) + stat_cell(name, "mean", s.mean) +
            stat_cell(name, "median", s.median);
    html += s.optimality_gap ? stat_cell(name, "optimality_gap", *s.optimality_gap)
                             : "<td class=\"note\">no threshold</td>";
    std::string finals;
    for (const double f : s.finals) finals += (finals.empty() ? "" : ", ") + shown(f);
    html += "<td>" + finals + "</td>" + target_cell(results[i].target) + "</tr>";
  }
  return html + "</table>";
}

std::string target_section(const std::vector<ConfigRuns>& configs,
                           const std::vector<ConfigResults>& results) {
  std::string html =
      "<table id=\"targets\"><tr><th>config</th><th>target</th><th>per seed "
      "(judged evaluation)</th><th>verdict</th></tr>";
  for (size_t i = 0; i < configs.size(); ++i) {
    const auto& target = results[i].target;
    html += "<tr><td>" + escape_html(configs[i].name) + "</td>";
    if (!target) {
      html += "<td class=\"note\">the config declares no target</td><td></td>" +
              target_cell(target) + "</tr>";
      continue;
    }
    std::string seeds;
    for (size_t s = 0; s < target->seeds.size(); ++s) {
      const SeedVerdict& v = target->seeds[s];
      seeds += (seeds.empty() ? "" : "<br>") + escape_html(configs[i].seeds[s].label) + ": ";
      seeds += v.judged ? shown(v.judged->value) + " at " + std::to_string(v.judged->step) +
                              " steps " + (v.met ? "(met)" : "(not met)")
                        : std::string("no evaluation within the budget");
    }
    html += "<td>" + escape_html(describe_target(target->target)) + "</td><td>" + seeds + "</td>" +
            target_cell(target) + "</tr>";
  }
  return html + "</table>";
}

std::string improvement_section(const std::vector<ConfigRuns>& configs,
                                const std::vector<ConfigResults>& results) {
  std::string rows;
  for (size_t i = 0; i < configs.size(); ++i)
    for (size_t j = 0; j < configs.size(); ++j) {
      if (i == j || results[i].metric != results[j].metric) continue;
      const double p =
          stats::probability_of_improvement({results[i].scores.finals}, {results[j].scores.finals});
      rows += "<tr><td>" + escape_html(configs[i].name) + "</td><td>" +
              escape_html(configs[j].name) + "</td><td data-stat=\"poi\" data-x=\"" +
              escape_html(configs[i].name) + "\" data-y=\"" + escape_html(configs[j].name) +
              "\" data-value=\"" + exact(p) + "\">" + shown(p) + "</td></tr>";
    }
  if (rows.empty()) return "<p class=\"note\">Needs two configs scored by the same metric.</p>";
  return "<p>P(X &gt; Y): the probability that a run of X ends with a higher score than a run of "
         "Y (ties count half; Mann-Whitney U over all pairs of seeds).</p><table id=\"poi\">"
         "<tr><th>X</th><th>Y</th><th>P(X &gt; Y)</th></tr>" +
         rows + "</table>";
}

std::string profile_section(const std::vector<ConfigRuns>& configs,
                            const std::vector<ConfigResults>& results) {
  std::map<std::string, std::vector<size_t>> by_metric;
  for (size_t i = 0; i < configs.size(); ++i) by_metric[results[i].metric].push_back(i);
  std::string html = "<div class=\"charts\">";
  for (const auto& [metric, members] : by_metric) {
    std::vector<std::vector<double>> finals;
    for (const size_t i : members) finals.push_back(results[i].scores.finals);
    const std::vector<double> thresholds = profile_thresholds(finals);
    Chart chart;
    chart.title = "Performance profile: " + metric;
    chart.x_label = "final " + metric + " (tau)";
    chart.y_label = "fraction of runs > tau";
    chart.y_range = {{0.0, 1.0}};
    for (const size_t i : members)
      chart.lines.push_back({thresholds, performance_profile(results[i].scores.finals, thresholds),
                             colour_of(i), 2.5, 1, true, configs[i].name});
    html += svg_chart(chart);
  }
  return html + "</div>";
}

// The best seed's (highest evaluation mean) recorded best episode as an <img>.
std::string episode_html(const ConfigRuns& config, std::vector<std::string>& warnings) {
  const SeedRun* best = nullptr;
  double best_mean = -INFINITY;
  for (const SeedRun& seed : config.seeds)
    for (const Evaluation& e : seed.evaluations)
      if (!seed.best_replay.empty() && e.eval_mean > best_mean) {
        best_mean = e.eval_mean;
        best = &seed;
      }
  const std::string heading = "<div class=\"episode\"><b>" + escape_html(config.name) + "</b><br>";
  if (!best)
    return heading +
           "<span class=\"note\">no recorded evaluation episode (replays/best.rlr; runs "
           "with wrappers or record_eval: false record none)</span></div>";
  try {
    const tensorboard::EpisodeGif gif =
        tensorboard::replay_gif(read_replay(best->best_replay.string()));
    return heading + escape_html(best->label) + ", best evaluation (mean " + shown(best_mean) +
           ")<br><img alt=\"best evaluation episode of " + escape_html(config.name) +
           "\" width=\"" + std::to_string(gif.width) + "\" height=\"" + std::to_string(gif.height) +
           "\" src=\"data:image/gif;base64," + base64(gif.bytes) + "\"></div>";
  } catch (const std::exception& e) {
    warnings.push_back(best->best_replay.string() + ": no episode GIF: " + e.what());
    return heading + "<span class=\"note\">" + escape_html(warnings.back()) + "</span></div>";
  }
}

}  // namespace

std::string base64(const std::vector<uint8_t>& bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = static_cast<uint32_t>(bytes[i]) << 16;
    if (n > 1) group |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (n > 2) group |= bytes[i + 2];
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kDigits[(group >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

std::string html_report(const std::vector<ConfigRuns>& configs, const ReportOptions& options,
                        std::vector<std::string>* warnings) {
  std::vector<std::string> own_warnings;
  std::vector<std::string>& notes = warnings ? *warnings : own_warnings;
  std::vector<ConfigResults> results;
  for (const ConfigRuns& config : configs) {
    ConfigResults& r = results.emplace_back();
    r.metric = score_metric(config, options.metric);
    r.curve = learning_curve(config, r.metric, options.x_axis, options.curve_bootstrap);
    r.scores = summarize_scores(config, r.metric, options.gap_threshold, options.bootstrap);
    r.target = judge_config(config);
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     escape_html(options.title) + "</title><style>" + kStyle +
                     "</style></head><body><h1>" + escape_html(options.title) + "</h1>";
  html +=
      "<p class=\"note\">Scores: each seed's final evaluation. Intervals: 95% stratified "
      "bootstrap (" +
      std::to_string(options.bootstrap.resamples) +
      " resamples, percentile method); curves: mean over seeds with a 95% bootstrap band, "
      "thin lines are single seeds.</p>";
  html += "<h2>Learning curves</h2><div class=\"charts\">";
  for (size_t i = 0; i < configs.size(); ++i)
    html +=
        curve_chart(configs[i].name + " (" + std::to_string(configs[i].seeds.size()) + " seeds)",
                    results[i].metric, options.x_axis, {{i, &results[i].curve}}, true);
  if (configs.size() > 1) {
    std::vector<std::pair<size_t, const LearningCurve*>> all;
    for (size_t i = 0; i < configs.size(); ++i) all.push_back({i, &results[i].curve});
    html += curve_chart("All configs", results[0].metric, options.x_axis, all, false);
  }
  html += "</div><h2>Final scores</h2>" + score_table(configs, results);
  html += "<h2>Targets</h2>" + target_section(configs, results);
  html += "<h2>Probability of improvement</h2>" + improvement_section(configs, results);
  html += "<h2>Performance profiles</h2>" + profile_section(configs, results);
  if (options.episodes) {
    html += "<h2>Best evaluation episodes</h2>";
    for (const ConfigRuns& config : configs) html += episode_html(config, notes);
  }
  return html + "</body></html>\n";
}

}  // namespace rl::report
