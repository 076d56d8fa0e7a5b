// The replay buffer of each rank of a data-parallel DQN/SAC run, kept beside the run's
// checkpoints: latest.pt (written by rank 0) holds rank 0's buffer, and every other rank R
// writes its own to checkpoints/replay_rank<R>.bin at the same steps, tagged with the step, so
// that a resumed run gives every rank back its own transitions.
#pragma once

#include <cstdint>
#include <string>

#include "core/replay_buffer.h"

namespace rl::distributed {

// checkpoints/replay_rank<rank>.bin of the run folder `run_dir`.
std::string rank_replay_path(const std::string& run_dir, int rank);

// Writes `replay` with `step` to rank_replay_path (atomically: an interrupted write leaves the
// previous file).
void save_rank_replay(const std::string& run_dir, int rank, int64_t step,
                      const ReplayBuffer& replay);

// Loads this rank's buffer saved at `step` into `replay` and returns true; false (leaving
// `replay` alone) when there is no file or it was saved at another step (the run stopped
// between rank 0's checkpoint and this rank's file). Throws std::runtime_error naming the file
// when it is damaged.
bool load_rank_replay(const std::string& run_dir, int rank, int64_t step, ReplayBuffer& replay);

}  // namespace rl::distributed
