// What a recurrent on-policy agent keeps beside its RolloutBuffer: the memory of its training
// envs while acting, and per rollout step the memory each env acted from and whether its
// episode started there. Training re-runs whole env sequences from that stored memory
// (CleanRL ppo_atari_lstm's scheme: minibatches are sets of envs), optionally cut into pieces of
// sequence_length steps, each re-run from the memory stored at its first step.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <span>
#include <vector>

#include "agents/agent.h"

namespace rl {

class RecurrentRollout {
 public:
  // Throws std::invalid_argument when sequence_length (0: num_steps) does not divide num_steps.
  RecurrentRollout(int64_t num_steps, int num_envs, int64_t state_size, int64_t sequence_length);

  // The training envs' memory (num_envs slots).
  RecurrentState& acting_state() { return acting_; }
  // Before acting at rollout step `step`: zeroes the memory of envs whose episode starts now,
  // then stores it and the starts as step `step`'s.
  void begin_step(int step);
  // After a step: envs with episode_ends[i] != 0 start a new episode at the next one.
  void end_step(std::span<const uint8_t> episode_ends);
  // Forgets everything: every env starts an episode at the next step (after loading weights).
  void restart();

  int64_t sequence_length() const { return sequence_length_; }
  // Sequences per rollout: num_envs * (num_steps / sequence_length).
  int64_t sequences() const { return num_envs_ * (num_steps_ / sequence_length_); }

  struct Batch {
    torch::Tensor rows;    // int64 [L * B]: the sequences' RolloutBuffer rows, time-major.
    torch::Tensor state;   // float [B, state_size]: the memory before each sequence.
    torch::Tensor starts;  // float [L, B]: 1 where an episode starts.
  };
  // The sequences `ids` [count] (each in [0, sequences())).
  Batch gather(const int64_t* ids, int64_t count) const;

 private:
  int64_t num_steps_, num_envs_, state_size_, sequence_length_;
  RecurrentState acting_;
  std::vector<uint8_t> starting_;  // [num_envs]: the episode starts at the next step.
  std::vector<float> states_;      // [num_steps, num_envs, state_size]
  std::vector<float> starts_;      // [num_steps, num_envs]
};

}  // namespace rl
