// Shared body of rlbench's end-to-end training cases: train a config given as YAML text in a
// temporary run folder (removed afterwards) and report the run's speed and final evaluation.
#pragma once

#include <string>

#include "apps/rlbench/bench.h"

namespace rl::bench {

// Trains `config_yaml` to completion and returns one row named `case_name` for `target`
// with steps, wall_seconds, steps_per_second and final_eval_mean. Throws what training throws
// (the temporary folder is removed either way).
BenchResult run_training_case(const std::string& case_name, const std::string& target,
                              const std::string& config_yaml);

}  // namespace rl::bench
