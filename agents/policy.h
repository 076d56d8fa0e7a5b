// The embedding API: acting with a policy file written by `rlexport` (agents/export), in any
// C++ program, without the trainer, configs or checkpoints.
//
//   rl::Policy policy = rl::Policy::load("policy.pt");    // throws PolicyLoadError
//   env->reset(seed, obs);                                // an env of policy.env_id()
//   for (;;) {
//     rl::Action action = policy.act(obs);                // greedy, as the agent evaluates
//     if (env->step(action, obs).done()) break;
//   }
//
// Contract:
//   - Observations are what the env hands out below any normalize_observation wrapper (the
//     policy applies the trained statistics itself), as raw bytes in observation_space()'s
//     dtype: u8 or f32, exactly observation_space().bytes() per observation.
//   - Actions: Discrete spaces get Action::index (the argmax over legal actions when a mask is
//     given); Box spaces get Action::values, the action within the bounds, valid until the next
//     act() call on this Policy.
//   - Wrong sizes throw std::invalid_argument naming what was expected; act() never returns an
//     illegal action when `legal` is given (at least one entry must be 1).
//   - Recurrent policies (PPO/A2C with agent.recurrent) carry memory from step to step: act(obs)
//     uses and advances one memory the Policy holds (call reset_state() when the episode
//     starts); for several envs, step() advances a memory the caller holds, one row of
//     state_size() floats per env (zeros: an episode start). The batch act() refuses recurrent
//     policies (std::logic_error), since a batch has no memory to carry.
//   - A Policy is movable, not copyable; one Policy must not act from two threads at once
//     (load one per thread; they are small).
// This header includes no LibTorch: the TorchScript module lives behind a pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/spaces.h"

namespace rl {

// A policy file that cannot be used: missing, not a TorchScript file, or a TorchScript module
// that is not an rlcade policy. The message names the file.
class PolicyLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Policy {
 public:
  // Reads a policy written by rlexport. Throws PolicyLoadError naming `path`.
  static Policy load(const std::string& path);

  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  ~Policy();

  const std::string& env_id() const { return env_id_; }
  // The env's parameters as rlexport saw them ("key=value, ..."; empty for the defaults).
  const std::string& env_params() const { return env_params_; }
  // Wrappers of the training config, comma-separated (the policy applies normalize_observation
  // itself; any other observation wrapper, e.g. frame_stack, is the caller's to apply).
  const std::string& env_wrappers() const { return env_wrappers_; }
  const std::string& agent_type() const { return agent_type_; }  // "dqn", "ppo", "a2c", "sac"
  const Space& observation_space() const { return observation_space_; }
  const Space& action_space() const { return action_space_; }

  // What computes the actions: "dense" (plain MLP policies, on the small-network engine with
  // direct BLAS; agents/export/dense_plan.h) or "torchscript" (the module's forward: every other
  // network). Both give the same actions.
  const char* engine() const;

  bool recurrent() const { return state_size_ > 0; }
  // Floats of memory per env (0 for feed-forward policies).
  int64_t state_size() const { return state_size_; }
  // Forgets the memory act(obs) carries (a new episode starts). Nothing for feed-forward ones.
  void reset_state();

  // The greedy action for one observation; `legal` (Discrete only, action_space().n bytes,
  // 1 = legal) restricts the choice when not empty.
  Action act(std::span<const uint8_t> observation, std::span<const uint8_t> legal = {});

  // `batch` observations at once: Discrete action spaces write `discrete` (batch entries), Box
  // ones `continuous` (batch * action elements). `legal`: batch * n bytes, or empty.
  void act(std::span<const uint8_t> observations, int batch, std::span<int64_t> discrete,
           std::span<float> continuous, std::span<const uint8_t> legal = {});

  // Recurrent policies: `batch` observations and their envs' memory `state` (batch *
  // state_size() floats, advanced in place; zero a row when its env starts an episode).
  // Outputs and `legal` as in the batch act(). Feed-forward policies ignore `state` (empty).
  void step(std::span<const uint8_t> observations, int batch, std::span<float> state,
            std::span<int64_t> discrete, std::span<float> continuous,
            std::span<const uint8_t> legal = {});

 private:
  struct Module;
  explicit Policy(std::unique_ptr<Module> module);
  // Checks the sizes of an act()/step() call; throws std::invalid_argument naming what differs.
  void check_call(size_t observation_bytes, int batch, size_t action_slots,
                  std::span<const uint8_t> legal) const;

  std::unique_ptr<Module> module_;
  std::string env_id_, env_params_, env_wrappers_, agent_type_;
  Space observation_space_, action_space_;
  int64_t state_size_ = 0;
  std::vector<float> state_;          // act()'s memory (recurrent policies).
  std::vector<float> action_values_;  // act()'s Box action.
};

}  // namespace rl
