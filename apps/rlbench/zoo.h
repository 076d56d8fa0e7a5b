// rlbench --zoo: trains the shipped configs over seeds and judges each config's `target:`.
//
// Each config runs as an rltrain multi-seed folder OUT/<config>/ (apps/rltrain/multi_seed.h,
// each seed a child rltrain), which a later --zoo run with the same config and seeds continues
// (finished seeds are not trained again). A seed is judged by its final policy within the
// budget: the last evaluation at or before the target's within_steps (core/run_target.h). A
// config whose total_steps exceed within_steps trains only up to within_steps. A folder's
// config must match the shipped one except for its `target:` section: a restated target is
// judged on the seeds already trained; so is a folder whose config lacks a setting added since
// (it resolves with that setting's default).
// Writes OUT/zoo.md (this run's markdown table), OUT/zoo.json and OUT/report.html (rlreport's
// page over every config of the run); with `docs`, the table in that file keeps the rows of the
// configs this run did not measure (apps/rlbench/zoo_table.h).
//
// --smoke trains every config for a tiny budget (kSmokeOverrides) on one seed: it checks that
// each config loads, trains, evaluates and is judged, not that it meets its target.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rl::bench {

struct ZooOptions {
  std::vector<std::string> configs;  // Config names (file stems); empty: every shipped config.
  std::optional<int64_t> seeds;      // Seeds 1..N; default: each target's `seeds`.
  int jobs = 1;                      // Seeds trained at once.
  bool smoke = false;
  std::optional<std::filesystem::path> out;   // Default runs/zoo (runs/zoo-smoke with --smoke).
  std::optional<std::filesystem::path> docs;  // Also update the table in this file.
  std::string command;                        // The command line, named in the generated files.
};

// The --set values of --smoke: a short budget, one evaluation at its end, no checkpoints.
extern const std::vector<std::string> kSmokeOverrides;

// The shipped configs: the *.yaml of ./configs when it exists, else of the source tree's.
std::filesystem::path shipped_config_dir();

// Runs the zoo. Returns the exit code: 0 when every config trained and was judged (and, without
// --smoke, met its target), 1 when a config failed to train or (without --smoke) missed its
// target, 130 when interrupted. Throws cli::UsageError for an unknown config name or a run
// folder holding another config's seeds, and ConfigError for a config that does not load
// (both before anything is trained).
int run_zoo(const ZooOptions& options);

}  // namespace rl::bench
