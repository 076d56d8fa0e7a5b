// Shared body of rlbench's end-to-end training cases: train a config given as YAML text in a
// temporary run folder (removed afterwards) and report the run's speed and final evaluation.
#pragma once

#include <cstdint>
#include <string>

#include "apps/rlbench/bench.h"

namespace rl::bench {

// The `train:` section the training cases share: `steps` env steps, no periodic evaluation,
// `eval_episodes` final evaluation episodes, no checkpoints, a metrics row every `log_every`
// steps, one tensor thread, no recordings.
std::string bench_train_section(int64_t steps, int eval_episodes, int64_t log_every);

// Trains `config_yaml` to completion and returns one row named `case_name` for `target`
// with steps, wall_seconds, steps_per_second and final_eval_mean. With `timed_from_step` > 0
// it also reports learning_steps_per_second: the steps after that one over the wall time they
// took (read from the run's metrics.csv, whose log_every must divide that step). Throws what
// training throws (the temporary folder is removed either way).
BenchResult run_training_case(const std::string& case_name, const std::string& target,
                              const std::string& config_yaml, int64_t timed_from_step = 0);

}  // namespace rl::bench
