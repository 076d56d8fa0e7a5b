// The history of a run's checkpoints. Whenever the trainer saves its newest state it writes
// checkpoints/latest.pt and a copy named after the step, checkpoints/step_<steps>.pt (steps
// zero-padded to 9 digits), then removes the oldest step files beyond train.keep_checkpoints.
// When a checkpoint turns out truncated or corrupt, the newest intact one is found among them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agents/checkpoint.h"

namespace rl {

// The name of the newest checkpoint in a checkpoint folder.
inline constexpr char kLatestCheckpoint[] = "latest.pt";

// Writes `bytes` (checkpoint_bytes() of the state at `step`, already saved as latest.pt) as
// <checkpoint_dir>/step_<step>.pt when `keep` > 0, then removes the oldest step files so that
// at most `keep` remain. Throws FileWriteError naming the file that could not be written.
void add_to_checkpoint_history(const std::string& checkpoint_dir, const std::string& bytes,
                               int64_t step, int64_t keep);

// The step files in `checkpoint_dir`, newest (highest step) first.
std::vector<std::string> step_checkpoints(const std::string& checkpoint_dir);

struct RejectedCheckpoint {
  std::string path;
  std::string reason;  // What is wrong with it, naming the file (CorruptCheckpointError).
};

// Which checkpoint file to load in place of the one asked for.
struct CheckpointChoice {
  std::string path;                          // Verified (verify_checkpoint).
  std::vector<RejectedCheckpoint> rejected;  // Files tried before it, in order.

  // One line per rejected file, then one naming the fallback (none when nothing was rejected).
  std::vector<std::string> report() const;
};

// `path` when it verifies; otherwise the first that verifies of latest.pt and the step files
// (newest first) in its folder. Throws std::runtime_error when `path` does not exist (a typo
// is not corruption), when a file is from a newer format version, and when no candidate
// verifies (the message names every file tried and what is wrong with it).
CheckpointChoice choose_valid_checkpoint(const std::string& path);

// The checkpoint that a viewer or exporter reads for `run_or_checkpoint`: the file itself, or in
// an rltrain run folder checkpoints/best.pt, else final.pt, else latest.pt. Throws
// std::runtime_error naming the path when it is neither a file nor a folder with one of them.
// Pass the result to choose_valid_checkpoint() to fall back from a damaged file.
std::string checkpoint_to_read(const std::string& run_or_checkpoint);

// Renames the rejected step files of `choice` to <name>.corrupt, so that the history holds
// only checkpoints that verified and pruning never keeps a damaged file over an intact one.
// Returns the new names (renames that fail are skipped: the file is then tried, and rejected,
// again next time).
std::vector<std::string> set_aside_rejected(const CheckpointChoice& choice);

}  // namespace rl
