// On-policy rollout storage for A2C and PPO: `num_steps` vector-env steps of `num_envs` envs in
// raw arrays (observations keep their dtype), then advantages by GAE(lambda) and returns.
//
// Layout: every array is step-major and flat, row = step * num_envs + env, so the whole
// rollout can be wrapped as one batch (torch::from_blob) without copying.
//
// Episode ends. A terminated step does not bootstrap: the value after it is 0. A truncated step
// (time limit) does bootstrap, from the value of the episode's final observation, which the
// vector env has already replaced by the next episode's first one; add() therefore folds it into
// the reward, r += gamma * V(final_obs), and the recursion then stops at the episode end as it
// does for a termination (the approach of Stable-Baselines3).
//
//   delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)
//   A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
//   R_t     = A_t + V(s_t)                          (the value-function target)
// with V(s_T) the value of the observation after the last stored step (compute_advantages()).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/spaces.h"

namespace rl {

struct RolloutOptions {
  int num_steps = 128;  // Vector-env steps per rollout.
  int num_envs = 1;
  double gamma = 0.99;
  double gae_lambda = 0.95;   // 1: Monte-Carlo returns bootstrapped at the rollout end.
  bool action_masks = false;  // Also store a legal-action mask per row (Discrete actions).
};

// One vector-env step, batch-first (num_envs rows). Exactly one action span is used, by the
// action space kind.
struct RolloutStep {
  std::span<const uint8_t> observations;      // Before the step, in the observation dtype.
  std::span<const int64_t> discrete_actions;  // Discrete action spaces.
  std::span<const float> continuous_actions;  // Box action spaces: num_envs * action numel.
  std::span<const float> rewards;
  std::span<const float> values;     // V(observation) of the acting policy.
  std::span<const float> log_probs;  // log pi(action | observation) of the acting policy.
  std::span<const uint8_t> terminated;
  std::span<const uint8_t> truncated;
  // V(final observation) per env; read only where truncated (may be empty when none is).
  std::span<const float> final_values;
  // Legal-action masks, num_envs * actions bytes (only with RolloutOptions::action_masks).
  std::span<const uint8_t> action_masks;
};

class RolloutBuffer {
 public:
  // Throws std::invalid_argument naming the bad option (num_steps or num_envs < 1, gamma or
  // gae_lambda outside [0, 1], action masks with a Box action space, a Discrete observation
  // space).
  RolloutBuffer(const Space& observation_space, const Space& action_space, RolloutOptions options);

  // Appends one step. Throws std::logic_error when full, std::invalid_argument (nothing stored)
  // for a span of the wrong size, a non-finite reward or value, or a truncated env without a
  // final value.
  void add(const RolloutStep& step);

  // Computes advantages() and returns() from `last_values` (num_envs values of the observations
  // after the last step). Throws std::logic_error unless full(), std::invalid_argument for a
  // wrong size.
  void compute_advantages(std::span<const float> last_values);

  // Ends this rollout after the steps() stored so far (DD-PPO's straggler cut-off): full()
  // becomes true, and rows(), the arrays below and compute_advantages() (bootstrapped from the
  // values after the last stored step) cover only those steps, until clear(). Throws
  // std::logic_error when no step is stored.
  void end_early();

  // Starts a new rollout (keeps the storage) of num_steps steps.
  void clear() {
    steps_ = 0;
    length_ = options_.num_steps;
  }

  bool full() const { return steps_ == length_; }
  int steps() const { return steps_; }
  // Rows of this rollout: num_steps x num_envs, or fewer after end_early().
  int64_t rows() const { return static_cast<int64_t>(length_) * options_.num_envs; }
  const RolloutOptions& options() const { return options_; }
  size_t observation_bytes() const { return observation_bytes_; }
  int64_t action_numel() const { return action_numel_; }

  // Flat arrays of rows() entries (times the per-row width).
  std::span<const uint8_t> observations() const { return first_rows(observations_); }
  std::span<const int64_t> discrete_actions() const { return first_rows(discrete_actions_); }
  std::span<const float> continuous_actions() const { return first_rows(continuous_actions_); }
  std::span<const float> rewards() const { return first_rows(rewards_); }  // With bootstraps.
  std::span<const float> values() const { return first_rows(values_); }
  std::span<const float> log_probs() const { return first_rows(log_probs_); }
  // terminated|truncated.
  std::span<const uint8_t> episode_ends() const { return first_rows(episode_ends_); }
  std::span<const uint8_t> action_masks() const { return first_rows(action_masks_); }
  // Valid after compute_advantages().
  std::span<const float> advantages() const { return first_rows(advantages_); }
  std::span<const float> returns() const { return first_rows(returns_); }

 private:
  // The part of a full-size array that holds this rollout's rows (all of it at full length).
  template <typename T>
  std::span<const T> first_rows(const std::vector<T>& array) const {
    return std::span<const T>(array).first(array.size() / options_.num_steps * length_);
  }

  RolloutOptions options_;
  bool discrete_ = true;
  int64_t num_actions_ = 0;  // Discrete action spaces.
  int64_t action_numel_ = 1;
  size_t observation_bytes_ = 0;
  int steps_ = 0;
  int length_ = 0;  // Steps of this rollout: num_steps, or fewer after end_early().
  std::vector<uint8_t> observations_;
  std::vector<int64_t> discrete_actions_;
  std::vector<float> continuous_actions_;
  std::vector<float> rewards_, values_, log_probs_, advantages_, returns_;
  std::vector<uint8_t> episode_ends_;
  std::vector<uint8_t> action_masks_;
};

}  // namespace rl
