// N copies of one env stepped together with batch-first buffers, auto-reset, and the final
// observation of every finished episode kept for bootstrapping truncated episodes. Learners
// build their transitions' next observations and next legal-action masks with
// next_observation() / next_legal_actions(), the one place that knows about the auto-reset.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/env.h"

namespace rl {

enum class VectorMode { kSync, kThreads };

class VectorEnv {
 public:
  using Factory = std::function<std::unique_ptr<Env>()>;

  // Builds `num_envs` envs with `make`; env i is seeded with base_seed + i at reset().
  // kThreads steps the envs on a pool of `threads` workers (0 = hardware concurrency). Both
  // modes give bit-identical results as long as the envs share no mutable state (a shared,
  // unfrozen NormalizeObservation is the exception). Handing a step to the pool costs a few
  // microseconds, so threads only pay off for envs much slower than CartPole (~40 ns/step).
  // Throws std::invalid_argument for num_envs < 1, threads < 0, a null env from `make`, or
  // envs whose spaces differ.
  VectorEnv(const Factory& make, int num_envs, uint64_t base_seed,
            VectorMode mode = VectorMode::kSync, int threads = 0);
  ~VectorEnv();

  int size() const;
  const EnvSpec& spec() const;
  size_t observation_bytes() const;  // Bytes of one env's observation.

  // Resets every env (env i with seed base_seed + i) and fills observations().
  void reset();
  // Steps every env. Discrete spaces: one index per env. Box spaces: numel floats per env,
  // env-major. Envs whose episode ends are reset at once: observations() then holds the
  // first observation of the new episode and final_observations() the last one of the old.
  // Throws std::logic_error before reset(), std::invalid_argument for the wrong action kind or
  // count (and whatever Env::step throws for an action outside the space).
  void step(std::span<const int64_t> discrete_actions);
  void step(std::span<const float> continuous_actions);

  // Batch-first buffers, valid after reset()/step().
  std::span<const uint8_t> observations() const;        // size() * observation_bytes()
  std::span<const uint8_t> final_observations() const;  // row i valid where done(i)
  std::span<const float> rewards() const;
  std::span<const uint8_t> terminated() const;  // 1 where the episode terminated
  std::span<const uint8_t> truncated() const;   // 1 where the episode was truncated
  bool done(int i) const { return terminated()[i] || truncated()[i]; }

  // The transition of env i's last step, (s, a, r, s', terminated, truncated), takes s' from
  // here: the episode's final observation when it ended in that step (observations() then
  // already holds the next episode's first one), else row i of observations(). Use it for
  // every s'; a terminated s' is not bootstrapped from, a truncated one is. The span is valid
  // until the next reset()/step(). Throws std::out_of_range for i outside [0, size()).
  std::span<const uint8_t> next_observation(int i) const;
  // Writes next_observation(i) of every env into row i of `out` (size() * observation_bytes()
  // bytes), for consumers that need s' batch-first. Throws std::invalid_argument for a wrong
  // size.
  void copy_next_observations(std::span<uint8_t> out) const;
  // The legal-action mask of next_observation(i) (Discrete action spaces): fills `mask`
  // (action_space.n bytes, 1 = legal) and returns true when env i restricts its actions
  // there. Where env i's episode ended in the last step the mask is all legal and the result
  // false: the final state's mask is gone with the auto-reset (it matters only for truncated
  // episodes, the ones that bootstrap). Unrestricted envs: all legal, false. Throws
  // std::out_of_range for a bad i, std::invalid_argument for a Box action space or a wrong
  // mask size.
  bool next_legal_actions(int i, std::span<uint8_t> mask) const;

  struct FinishedEpisode {
    int env_index;
    double episode_return;
    int64_t length;
  };
  // Episodes that finished during the last step() (empty after reset()).
  const std::vector<FinishedEpisode>& finished_episodes() const;

  Env& env(int i);
  const Env& env(int i) const;

  // ---- Action log, for exact resume ----------------------------------------------------
  // The vector env's whole state (every env mid-episode, its RNG, wrapper state such as frame
  // stacks and shared observation statistics) is a function of base_seed and the actions it
  // was given since reset(). With the log on, step() appends its actions to a log (Discrete
  // spaces of up to 256 actions: 1 byte per env and step, larger ones 8; Box spaces: the
  // floats), and replay() rebuilds that state in a fresh vector env by stepping it through a
  // saved log. The log grows by size() * action_log_record_bytes() per step and is cleared by
  // reset(). Envs whose state lives elsewhere (remote envs) cannot be rebuilt this way.
  void set_action_log(bool on);
  bool action_log_on() const;
  std::span<const uint8_t> action_log() const;
  int64_t logged_steps() const;
  size_t action_log_record_bytes() const;  // Bytes per env and step.
  // Steps through `log` (what action_log() returned for the same env and size, `steps`
  // vector steps) after reset(), calling `after_step` after each step (for consumers such as
  // episode statistics; may be empty). The replayed actions are appended to this env's log
  // when it is on. Throws std::invalid_argument (naming the sizes) when the log does not
  // match, std::logic_error before reset(), and what step() throws for a bad action.
  void replay(std::span<const uint8_t> log, int64_t steps,
              const std::function<void()>& after_step = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rl
