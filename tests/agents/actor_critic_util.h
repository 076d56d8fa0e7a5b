// Configs for the actor-critic agent tests on the probe envs (test/chain-v0, test/target-v0).
#pragma once

#include <cstdint>
#include <string>

namespace rl::test {

// A run on `env_id` with `agent_yaml` (the lines under `agent:`, each indented two spaces).
inline std::string ac_config(const std::string& env_id, const std::string& agent_yaml,
                             int64_t total_steps, int num_envs = 4, int64_t eval_episodes = 16) {
  return "name: ac_test\n"
         "seed: 5\n"
         "env:\n"
         "  id: " +
         env_id +
         "\n"
         "  num_envs: " +
         std::to_string(num_envs) +
         "\n"
         "agent:\n" +
         agent_yaml +
         "train:\n"
         "  total_steps: " +
         std::to_string(total_steps) +
         "\n"
         "  eval_every: 0\n"
         "  eval_episodes: " +
         std::to_string(eval_episodes) +
         "\n"
         "  checkpoint_every: 0\n"
         "  log_every: 1000\n"
         "  record_eval: false\n";
}

inline const char* kPpoChain =
    "  type: ppo\n"
    "  hidden: [32]\n"
    "  num_steps: 32\n"
    "  update_epochs: 4\n"
    "  num_minibatches: 4\n"
    "  lr: 3e-3\n"
    "  ent_coef: 0.01\n";

inline const char* kA2cChain =
    "  type: a2c\n"
    "  hidden: [32]\n"
    "  num_steps: 8\n"
    "  lr: 3e-3\n"
    "  ent_coef: 0.01\n";

inline const char* kSacTarget =
    "  type: sac\n"
    "  hidden: [64, 64]\n"
    "  batch_size: 64\n"
    "  learning_starts: 200\n"
    "  q_lr: 3e-3\n"
    "  policy_lr: 3e-3\n";

}  // namespace rl::test
