#include "core/rollout_buffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace rl {

namespace {

void check_size(size_t got, size_t expected, const char* what) {
  if (got != expected) {
    throw std::invalid_argument(std::string("rollout: ") + what + " has " + std::to_string(got) +
                                " entries, expected " + std::to_string(expected));
  }
}

void check_finite(std::span<const float> xs, const char* what) {
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i])) {
      throw std::invalid_argument(std::string("rollout: ") + what + " of env " + std::to_string(i) +
                                  " is not finite");
    }
  }
}

}  // namespace

RolloutBuffer::RolloutBuffer(const Space& observation_space, const Space& action_space,
                             RolloutOptions options)
    : options_(options) {
  if (options.num_steps < 1) throw std::invalid_argument("rollout: num_steps must be >= 1");
  if (options.num_envs < 1) throw std::invalid_argument("rollout: num_envs must be >= 1");
  if (!(options.gamma >= 0 && options.gamma <= 1)) {
    throw std::invalid_argument("rollout: gamma must be in [0, 1]");
  }
  if (!(options.gae_lambda >= 0 && options.gae_lambda <= 1)) {
    throw std::invalid_argument("rollout: gae_lambda must be in [0, 1]");
  }
  if (observation_space.is_discrete()) {
    throw std::invalid_argument("rollout: needs a Box observation space, got " +
                                observation_space.describe());
  }
  discrete_ = action_space.is_discrete();
  if (options.action_masks && !discrete_) {
    throw std::invalid_argument("rollout: action masks need a Discrete action space");
  }
  num_actions_ = discrete_ ? action_space.n : 0;
  action_numel_ = discrete_ ? 1 : action_space.numel();
  observation_bytes_ = observation_space.bytes();
  length_ = options.num_steps;
  const size_t rows = static_cast<size_t>(this->rows());
  observations_.resize(rows * observation_bytes_);
  if (discrete_) {
    discrete_actions_.resize(rows);
  } else {
    continuous_actions_.resize(rows * static_cast<size_t>(action_numel_));
  }
  rewards_.resize(rows);
  values_.resize(rows);
  log_probs_.resize(rows);
  advantages_.resize(rows);
  returns_.resize(rows);
  episode_ends_.resize(rows);
  if (options.action_masks) action_masks_.resize(rows * static_cast<size_t>(num_actions_));
}

void RolloutBuffer::add(const RolloutStep& step) {
  if (full()) throw std::logic_error("rollout: add() on a full buffer (call clear())");
  const size_t n = static_cast<size_t>(options_.num_envs);
  check_size(step.observations.size(), n * observation_bytes_, "observations (bytes)");
  if (discrete_) {
    check_size(step.discrete_actions.size(), n, "discrete_actions");
    for (size_t i = 0; i < n; ++i) {
      if (step.discrete_actions[i] < 0 || step.discrete_actions[i] >= num_actions_) {
        throw std::invalid_argument("rollout: action " + std::to_string(step.discrete_actions[i]) +
                                    " of env " + std::to_string(i) + " is outside [0, " +
                                    std::to_string(num_actions_) + ")");
      }
    }
  } else {
    check_size(step.continuous_actions.size(), n * static_cast<size_t>(action_numel_),
               "continuous_actions");
  }
  check_size(step.rewards.size(), n, "rewards");
  check_size(step.values.size(), n, "values");
  check_size(step.log_probs.size(), n, "log_probs");
  check_size(step.terminated.size(), n, "terminated");
  check_size(step.truncated.size(), n, "truncated");
  check_finite(step.rewards, "reward");
  check_finite(step.values, "value");
  bool any_truncated = false;
  for (size_t i = 0; i < n; ++i) any_truncated |= step.truncated[i] && !step.terminated[i];
  if (any_truncated) {
    check_size(step.final_values.size(), n, "final_values");
    check_finite(step.final_values, "final value");
  }
  if (options_.action_masks) {
    check_size(step.action_masks.size(), n * static_cast<size_t>(num_actions_), "action_masks");
  }

  const size_t row = static_cast<size_t>(steps_) * n;
  std::memcpy(observations_.data() + row * observation_bytes_, step.observations.data(),
              step.observations.size());
  if (discrete_) {
    std::copy(step.discrete_actions.begin(), step.discrete_actions.end(),
              discrete_actions_.begin() + row);
  } else {
    std::copy(step.continuous_actions.begin(), step.continuous_actions.end(),
              continuous_actions_.begin() + row * action_numel_);
  }
  for (size_t i = 0; i < n; ++i) {
    const bool terminated = step.terminated[i] != 0;
    const bool truncated = step.truncated[i] != 0 && !terminated;
    float reward = step.rewards[i];
    if (truncated) reward += static_cast<float>(options_.gamma) * step.final_values[i];
    rewards_[row + i] = reward;
    values_[row + i] = step.values[i];
    log_probs_[row + i] = step.log_probs[i];
    episode_ends_[row + i] = terminated || truncated;
  }
  if (options_.action_masks) {
    std::copy(step.action_masks.begin(), step.action_masks.end(),
              action_masks_.begin() + row * num_actions_);
  }
  ++steps_;
}

void RolloutBuffer::end_early() {
  if (steps_ < 1) throw std::logic_error("rollout: end_early() before any step was stored");
  length_ = steps_;
}

void RolloutBuffer::compute_advantages(std::span<const float> last_values) {
  if (!full()) {
    throw std::logic_error("rollout: compute_advantages() before the rollout is full (" +
                           std::to_string(steps_) + " of " + std::to_string(length_) + " steps)");
  }
  const size_t n = static_cast<size_t>(options_.num_envs);
  check_size(last_values.size(), n, "last_values");
  check_finite(last_values, "last value");
  const double gamma = options_.gamma;
  const double decay = options_.gamma * options_.gae_lambda;
  for (size_t env = 0; env < n; ++env) {
    double next_value = last_values[env];
    double next_advantage = 0.0;
    for (int t = length_ - 1; t >= 0; --t) {
      const size_t row = static_cast<size_t>(t) * n + env;
      const double carry = episode_ends_[row] ? 0.0 : 1.0;
      const double delta = rewards_[row] + gamma * next_value * carry - values_[row];
      const double advantage = delta + decay * carry * next_advantage;
      advantages_[row] = static_cast<float>(advantage);
      returns_[row] = static_cast<float>(advantage + values_[row]);
      next_value = values_[row];
      next_advantage = advantage;
    }
  }
}

}  // namespace rl
