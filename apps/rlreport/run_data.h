// What rlreport reads from run folders: each RUN argument becomes one config with its seeds.
//
//   runs/<name>/ with seed-<k>/ folders (rltrain --seeds): one config, a seed per folder
//                (seeds.json's list when there is one), its target from seeds_config.yaml;
//   a run folder (metrics.csv): one config of one seed, its target from config.yaml.
//
// Each seed contributes its evaluations (the metrics.csv rows with an eval_mean cell) and its
// best evaluation's recorded episode (replays/best.rlr) when the run recorded one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/run_target.h"

namespace rl::report {

// Input rlreport cannot use: the message names the file (and line) and what is wrong.
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A metrics.csv: its header and rows, a cell per column (NaN where a cell is empty).
struct MetricsTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
  // Index of `name` in columns, or -1.
  int column(const std::string& name) const;
};

// Reads a metrics.csv strictly: a header line, then rows of exactly as many comma-separated
// cells, each empty or a number. Throws ReportError "<path>:<line>: ..." otherwise, and for a
// missing file or one without the step, wall_seconds and eval_mean columns.
MetricsTable read_metrics_csv(const std::filesystem::path& path);

// One evaluation row.
struct Evaluation {
  int64_t step = 0;
  double wall_seconds = 0;
  double eval_mean = 0;
  std::optional<double> eval_success;  // When the env reports success.
};

struct SeedRun {
  std::string label;                    // "seed-3", or the run folder's name.
  std::filesystem::path dir;            // The run folder.
  std::vector<Evaluation> evaluations;  // In file order (step order), at least one.
  std::filesystem::path best_replay;    // replays/best.rlr; empty when the run has none.
};

struct ConfigRuns {
  std::string name;                 // Shown in the report; unique among the report's configs.
  std::filesystem::path dir;        // The RUN argument.
  std::vector<SeedRun> seeds;       // At least one.
  std::optional<RunTarget> target;  // From the folder's resolved config.
};

// True when `dir` is a multi-seed folder (a seeds.json or seed-<k>/ folders).
bool is_multi_seed_folder(const std::filesystem::path& dir);

// Loads one RUN argument. Throws ReportError (or ConfigError for a malformed target) naming
// the file: a folder that is neither kind, a missing or malformed metrics.csv, a seed
// without evaluations.
ConfigRuns load_config_runs(const std::filesystem::path& dir);

// Loads every RUN argument; configs with the same name get " (2)", " (3)", ... appended.
std::vector<ConfigRuns> load_all(const std::vector<std::filesystem::path>& dirs);

}  // namespace rl::report
