// rlreport's page: one self-contained HTML file (inline CSS and SVG, GIFs as data: URLs, no
// scripts, nothing fetched) with learning curves, final-score aggregates, probabilities of
// improvement, performance profiles, target verdicts and each config's best recorded episode.
//
// Every statistic in a table cell carries its exact value for machines:
//   <td data-config="NAME" data-stat="iqm" data-value="..." data-low="..." data-high="...">
// (stats: mean, median, iqm, optimality_gap; probabilities of improvement:
//  data-stat="poi" data-x="NAME" data-y="NAME" data-value="...").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/rlreport/report_stats.h"
#include "apps/rlreport/run_data.h"

namespace rl::report {

struct ReportOptions {
  std::string title = "rlreport";
  std::string metric;  // Score metric for every config ("": per config).
  XAxis x_axis = XAxis::kSteps;
  std::optional<double> gap_threshold;  // Optimality-gap threshold ("": each target's).
  bool episodes = true;                 // Embed each config's best recorded episode.
  stats::BootstrapSettings bootstrap;   // Intervals of the score table.
  stats::BootstrapSettings curve_bootstrap{1000, 0.95, 0};  // Bands of the learning curves.
};

// The whole page. Warnings (an episode that could not be rendered) go into the page and to
// `warnings`. Throws ReportError for unusable input (see score_metric).
std::string html_report(const std::vector<ConfigRuns>& configs, const ReportOptions& options,
                        std::vector<std::string>* warnings = nullptr);

// Standard base64 (RFC 4648, with padding), for data: URLs.
std::string base64(const std::vector<uint8_t>& bytes);

}  // namespace rl::report
