// rltrain --seeds: one config trained once per seed, each seed a child rltrain process (at
// most `jobs` at a time), then an aggregate over the seeds' final evaluations.
//
// A multi-seed folder holds:
//   seeds.json          {"name", "seeds": [...], "config": "seeds_config.yaml"}: what to train
//   seeds_config.yaml   the resolved config every seed starts from (its seed replaced by k)
//   seed-<k>/           a normal run folder per seed, plus seed-<k>/train.log (the child's
//                       output, appended to on resume)
//   summary.json        the aggregate, written once every seed has finished: per metric
//                       (final_eval_mean, and final_eval_success when every seed reports it)
//                       per_seed values in the order of "seeds", mean, median, iqm, and 95%
//                       stratified-bootstrap percentile intervals mean_ci95 and iqm_ci95
//                       (core/run_statistics.h; the settings are in its "bootstrap" entry)
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/json.h"

namespace rl::multi_seed {

// The seeds of "1-5", "1,3,7" or "1-3,10" (ranges inclusive, in the order given), at most
// kMaxSeeds of them. Throws std::invalid_argument whose message completes "--seeds <message>"
// for an empty list, a malformed item, a range going down (5-1) or a repeated seed.
std::vector<uint64_t> parse_seed_list(const std::string& text);
inline constexpr size_t kMaxSeeds = 1000;

// "1-5" or "1, 3, 7": seeds as a person reads them.
std::string describe_seeds(const std::vector<uint64_t>& seeds);

// True when `dir` holds a multi-seed run (a seeds.json).
bool is_multi_seed_folder(const std::filesystem::path& dir);

struct Options {
  std::filesystem::path dir;           // The multi-seed folder.
  int jobs = 1;                        // Seed runs at once, >= 1.
  std::vector<std::string> overrides;  // --set values given to every seed that runs (resume).
  // > 0: the env steps a seed must have trained to count as finished. A seed whose summary
  // records fewer (its budget has grown since) resumes; give the new budget in `overrides`.
  int64_t steps_to_finish = 0;
  std::vector<std::string> seed_args;  // More arguments for every seed's rltrain (--nproc N).
  std::ostream* log = nullptr;         // Progress: a line per seed started and finished.
  std::ostream* out = nullptr;         // The aggregate's one-line summary.
  // The rltrain executable each seed runs; empty: this program (rltrain itself). rlbench --zoo
  // names the rltrain built beside it.
  std::filesystem::path program;
};

// Creates the folder's seeds.json and seeds_config.yaml (from `resolved_config`, the validated
// config with overrides applied, named `name`), then trains every seed as train_seeds does.
int start(const Options& options, const std::string& name, const std::string& resolved_config,
          const std::vector<uint64_t>& seeds);

// Trains the folder's unfinished seeds (a seed whose summary.json says it finished, not
// interrupted, after at least `steps_to_finish` env steps, is skipped; a started one is
// resumed; the others start from seeds_config.yaml), then writes the aggregate. Children get their
// own process group; Ctrl-C (SIGINT or SIGTERM) is passed on to the running seeds, which save a
// checkpoint and stop (a second one makes them quit at once) and no new seed starts. Returns the
// exit code: 0 when every seed finished and the aggregate is written, 130 when interrupted, 1 when
// a seed failed (reported with its exit code and log; the others run to the end first).
int train_seeds(const Options& options);

// Reads each seed's summary.json and builds the aggregate (the summary.json content). Throws
// std::runtime_error naming the file when a seed's summary is missing or has no final
// evaluation.
json::Value aggregate(const std::filesystem::path& dir, const std::vector<uint64_t>& seeds);

}  // namespace rl::multi_seed
