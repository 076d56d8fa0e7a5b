// N copies of one env stepped together with batch-first buffers, auto-reset, and the final
// observation of every finished episode kept for bootstrapping truncated episodes.
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

  struct FinishedEpisode {
    int env_index;
    double episode_return;
    int64_t length;
  };
  // Episodes that finished during the last step() (empty after reset()).
  const std::vector<FinishedEpisode>& finished_episodes() const;

  Env& env(int i);
  const Env& env(int i) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rl
