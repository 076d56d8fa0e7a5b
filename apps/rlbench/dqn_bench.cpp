// DQN end to end on CartPole with the hyperparameters of CleanRL's dqn.py: the whole training
// loop (env, acting, replay, learning, final evaluation) timed as env steps per second.
#include <string>

#include "apps/rlbench/bench.h"
#include "apps/rlbench/training_case.h"

namespace rl::bench {
namespace {

// cleanrl/dqn.py defaults: lr 2.5e-4, buffer 10k, gamma 0.99, tau 1, target every 500 steps,
// batch 128, epsilon 1 -> 0.05 over half the run, learning starts at 10k, train every 10 steps,
// Q-network 120-84, MSE loss, Adam, no gradient clipping, plain (not double) DQN, 500k steps.
std::string cleanrl_config(int64_t steps, uint64_t seed) {
  return "name: rlbench_dqn_cartpole\n"
         "seed: " +
         std::to_string(seed) +
         "\n"
         "env: {id: classic/cartpole-v1}\n"
         "agent:\n"
         "  type: dqn\n"
         "  hidden: [120, 84]\n"
         "  lr: 2.5e-4\n"
         "  buffer_size: 10000\n"
         "  gamma: 0.99\n"
         "  tau: 1.0\n"
         "  target_update_period: 500\n"
         "  batch_size: 128\n"
         "  epsilon_start: 1.0\n"
         "  epsilon_end: 0.05\n"
         "  exploration_fraction: 0.5\n"
         "  learning_starts: 10000\n"
         "  train_frequency: 10\n"
         "  loss: mse\n"
         "  max_grad_norm: 0\n"
         "  double_dqn: false\n"
         "train:\n"
         "  total_steps: " +
         std::to_string(steps) +
         "\n"
         "  eval_every: 0\n"
         "  eval_episodes: 10\n"
         "  checkpoint_every: 0\n"
         "  log_every: 10000\n"
         "  threads: 1\n"
         "  record_eval: false\n";
}

BenchResults run_dqn_cartpole(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(500000);
  return {run_training_case("dqn_cartpole_e2e", "classic/cartpole-v1, CleanRL dqn.py settings",
                            cleanrl_config(steps, options.seed))};
}

RLBENCH_CASE("dqn_cartpole_e2e",
             "DQN training on CartPole with CleanRL dqn.py settings, env steps/s (--steps N)", true,
             run_dqn_cartpole);

}  // namespace
}  // namespace rl::bench
