// Checkpoint files (runs/<name>/checkpoints/*.pt): one LibTorch archive holding the resolved
// config, the agent (networks, optimizer, counters, RNG), the trainer's counters and the
// wrapper statistics (observation normalization). Written atomically (temp file + rename).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "agents/experiment.h"

namespace rl {

// The trainer's side of a checkpoint.
struct TrainerState {
  int64_t env_steps = 0;
  int64_t episodes = 0;
  double wall_seconds = 0.0;  // Training time so far, summed over resumed sessions.
  double best_eval_mean = NAN;
  double last_eval_mean = NAN;
  double last_eval_std = NAN;
  int64_t last_eval_step = -1;
  int64_t solved_at_step = -1;  // First evaluation reaching the env's reward threshold.
  double solved_at_seconds = NAN;
  // Success rates of evaluations (envs with EnvSpec::reports_success; NaN otherwise).
  double last_eval_success = NAN;
  double best_eval_success = NAN;  // Highest success rate of any evaluation.
};

// Writes `experiment` (its agent and wrapper statistics) and `state` to `path` atomically.
// Throws std::runtime_error naming the path on failure.
void save_checkpoint(const std::string& path, const Experiment& experiment,
                     const TrainerState& state);

// The resolved config stored in a checkpoint. Throws std::runtime_error naming the path when
// the file is missing or not an rlcade checkpoint.
std::string read_checkpoint_config(const std::string& path);

// Loads agent weights, wrapper statistics and trainer state into an experiment built from a
// compatible config. Throws std::runtime_error naming the path and what does not match.
TrainerState load_checkpoint(const std::string& path, Experiment& experiment);

// Builds the experiment from the checkpoint's own config and loads it: everything a viewer
// needs to run the trained agent (experiment.agent->act(..., ActMode::kGreedy, ...)).
Experiment load_experiment_from_checkpoint(const std::string& path, TrainerState* state = nullptr);

}  // namespace rl
