// Checkpoint files (runs/<name>/checkpoints/*.pt): one LibTorch archive holding the resolved
// config, the agent (networks, optimizer, counters, RNG), the trainer's counters and the
// wrapper statistics (observation normalization). Written atomically (temp file + rename).
//
// The archive is followed by a 24-byte trailer that lets a reader tell an intact file from a
// truncated or bit-flipped one: the archive's size (u64), its CRC-32 (u32) and the trailer's
// version (u32, 1), little-endian, then the 8 bytes "rlcadeCK". Files written before the
// trailer existed end without it and are read when they open as archives.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

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
  // Processes of the run that wrote the checkpoint (1 in checkpoints from before multi-process
  // training): a resume with another number warns (agents/trainer.cpp).
  int64_t world_size = 1;
};

// What an exact resume needs besides the agent (networks, optimizer, counters, RNG states,
// running statistics) and TrainerState; latest.pt and its step_<steps>.pt copies hold it.
struct ResumeState {
  // The training vector env's action log (VectorEnv::action_log) since its reset() with
  // env_base_seed: replaying it rebuilds every env mid-episode. Absent (false) for envs that
  // cannot be rebuilt (remote) and in older checkpoints: the envs then start new episodes.
  bool has_env_log = false;
  uint64_t env_base_seed = 0;
  int64_t env_logged_steps = 0;
  std::vector<uint8_t> env_action_log;
  // The shared observation statistics (NormalizeObservation) when the log started, for the
  // replay to normalize as the run did (empty without them).
  std::vector<uint8_t> env_start_observation_stats;
  // The agent metrics of the last update (metrics.csv rows repeat them until the next one).
  std::map<std::string, double> agent_metrics;
  // Saving: also store the agent's replay buffer (Agent::replay_buffer). Loading: set when the
  // checkpoint held one and it was loaded into the agent.
  bool replay = false;
};

// The version of the archive's layout ("format" entry "rlcade-checkpoint-<version>"). Older
// versions are read; a newer one is refused with an error naming both versions.
inline constexpr int kCheckpointFormatVersion = 1;

// A checkpoint file that cannot be used as it is: truncated, failing its checksum, or not an
// rlcade checkpoint archive. The message names the file and what is wrong. Other loading errors
// (a missing file, a newer format version, a config that does not match) are plain
// std::runtime_error: another copy of the run's checkpoints would not fix them.
class CorruptCheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The bytes of a checkpoint file (archive and trailer) of `experiment` (its agent and wrapper
// statistics) and `state`, with `resume` when given (and the replay buffer if resume->replay).
std::string checkpoint_bytes(const Experiment& experiment, const TrainerState& state,
                             const ResumeState* resume = nullptr);

// Writes `bytes` from checkpoint_bytes() to `path` atomically. Throws FileWriteError
// (core/atomic_file.h) naming the path and the reason; the previous file stays intact.
void write_checkpoint_file(const std::string& path, const std::string& bytes);

// Writes `experiment` and `state` to `path` atomically (checkpoint_bytes, write_checkpoint_file).
void save_checkpoint(const std::string& path, const Experiment& experiment,
                     const TrainerState& state);

// Reads `path` whole and checks that this build can load it: the checksum matches, it opens as
// an archive and its format version is known. Throws CorruptCheckpointError, or
// std::runtime_error for a missing file or a newer format version.
void verify_checkpoint(const std::string& path);

// The resolved config stored in a checkpoint. Throws as verify_checkpoint() does.
std::string read_checkpoint_config(const std::string& path);

// Loads agent weights, wrapper statistics and trainer state into an experiment built from a
// compatible config. With `resume`, also fills it and loads a stored replay buffer into the
// agent. Throws as verify_checkpoint() does, and std::runtime_error naming the path and what
// does not match.
TrainerState load_checkpoint(const std::string& path, Experiment& experiment,
                             ResumeState* resume = nullptr);

// Builds the experiment from the checkpoint's own config and loads it: everything a viewer
// needs to run the trained agent (experiment.agent->act(..., ActMode::kGreedy, ...)).
Experiment load_experiment_from_checkpoint(const std::string& path, TrainerState* state = nullptr);

}  // namespace rl
