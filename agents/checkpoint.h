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
#include <stdexcept>
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
// statistics) and `state`.
std::string checkpoint_bytes(const Experiment& experiment, const TrainerState& state);

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
// compatible config. Throws as verify_checkpoint() does, and std::runtime_error naming the path
// and what does not match.
TrainerState load_checkpoint(const std::string& path, Experiment& experiment);

// Builds the experiment from the checkpoint's own config and loads it: everything a viewer
// needs to run the trained agent (experiment.agent->act(..., ActMode::kGreedy, ...)).
Experiment load_experiment_from_checkpoint(const std::string& path, TrainerState* state = nullptr);

}  // namespace rl
