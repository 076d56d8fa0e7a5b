#include "core/env.h"

#include <cmath>
#include <stdexcept>

namespace rl {

void Env::check_buffer(ObsBuffer obs) const {
  if (obs.size() != spec_.observation_space.bytes())
    throw std::invalid_argument(spec_.id + ": observation buffer has " +
                                std::to_string(obs.size()) + " bytes, expected " +
                                std::to_string(spec_.observation_space.bytes()));
}

void Env::check_action(const Action& action) const {
  const Space& space = spec_.action_space;
  if (space.is_discrete()) {
    if (action.index < 0 || action.index >= space.n)
      throw std::invalid_argument(spec_.id + ": action " + std::to_string(action.index) +
                                  " is outside " + space.describe());
    return;
  }
  if (static_cast<int64_t>(action.values.size()) != space.numel())
    throw std::invalid_argument(spec_.id + ": action has " + std::to_string(action.values.size()) +
                                " values, expected " + std::to_string(space.numel()));
  for (size_t i = 0; i < action.values.size(); ++i) {
    const float v = action.values[i];
    if (!std::isfinite(v) || v < space.low[i] || v > space.high[i])
      throw std::invalid_argument(spec_.id + ": action value " + std::to_string(v) + " at index " +
                                  std::to_string(i) + " is outside [" +
                                  std::to_string(space.low[i]) + ", " +
                                  std::to_string(space.high[i]) + "]");
  }
}

void Env::reset(uint64_t seed, ObsBuffer obs) {
  rng_.seed_with(seed);
  on_seed(seed);
  reset(obs);
}

void Env::reset(ObsBuffer obs) {
  check_buffer(obs);
  episode_steps_ = 0;
  episode_return_ = 0.0;
  episode_over_ = false;
  has_reset_ = true;
  do_reset(obs);
}

StepResult Env::step(const Action& action, ObsBuffer obs) {
  if (!has_reset_) throw std::logic_error(spec_.id + ": step() called before reset()");
  if (episode_over_)
    throw std::logic_error(spec_.id + ": step() called after the episode ended; call reset()");
  check_buffer(obs);
  check_action(action);
  StepResult result = do_step(action, obs);
  // Success counts only on a step where the env itself ends the episode.
  if (!result.done()) result.success = false;
  ++episode_steps_;
  episode_return_ += result.reward;
  if (!result.terminated && spec_.max_episode_steps > 0 &&
      episode_steps_ >= spec_.max_episode_steps)
    result.truncated = true;
  if (result.terminated) result.truncated = false;
  episode_over_ = result.done();
  if (episode_over_) last_episode_succeeded_ = result.success;
  return result;
}

}  // namespace rl
