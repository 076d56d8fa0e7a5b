// DQN end to end on CartPole with the hyperparameters of CleanRL's dqn.py: the whole training
// loop (env, acting, replay, learning, final evaluation) timed as env steps per second.
#include <stdexcept>
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
         "  double_dqn: false\n" +
         bench_train_section(steps, /*eval_episodes=*/10,
                             /*log_every=*/10000);
}

BenchResults run_dqn_cartpole(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(500000);
  return {run_training_case("dqn_cartpole_e2e", "classic/cartpole-v1, CleanRL dqn.py settings",
                            cleanrl_config(steps, options.seed))};
}

RLBENCH_CASE("dqn_cartpole_e2e",
             "DQN training on CartPole with CleanRL dqn.py settings, env steps/s (--steps N)", true,
             run_dqn_cartpole);

// The MinAtar paper's DQN (Young & Tian 2019; configs/dqn_minatar_breakout.yaml): conv 16 3x3,
// hidden 128, replay 100k, batch 32, one update per frame, target every 1000 frames, centred
// RMSprop lr 2.5e-4 (alpha 0.95, eps 0.01), Huber loss, epsilon 1 -> 0.1 over 100k frames,
// learning from frame 5000. Default 30k frames: 5k of warm-up, then 25k frames of learning.
constexpr int64_t kMinatarLearningStarts = 5000;
constexpr int64_t kMinatarLogEvery = 1000;  // Divides kMinatarLearningStarts: that row is timed.

std::string minatar_config(int64_t steps, uint64_t seed, int learner_threads) {
  return "name: rlbench_dqn_minatar_breakout\n"
         "seed: " +
         std::to_string(seed) +
         "\n"
         "env: {id: minatar/breakout-v0, params: {sticky_action_prob: 0.1}}\n"
         "agent:\n"
         "  type: dqn\n"
         "  torso: cnn\n"
         "  cnn_channels: 16\n"
         "  cnn_hidden: 128\n"
         "  double_dqn: false\n"
         "  gamma: 0.99\n"
         "  loss: huber\n"
         "  max_grad_norm: 0\n"
         "  optimizer: rmsprop\n"
         "  lr: 2.5e-4\n"
         "  rmsprop_alpha: 0.95\n"
         "  rmsprop_eps: 0.01\n"
         "  batch_size: 32\n"
         "  buffer_size: 100000\n"
         "  learning_starts: " +
         std::to_string(kMinatarLearningStarts) +
         "\n"
         "  train_frequency: 1\n"
         "  target_update_period: 1000\n"
         "  epsilon_start: 1.0\n"
         "  epsilon_end: 0.1\n"
         "  exploration_steps: 100000\n"
         "  eval_epsilon: 0.1\n"
         "  learner_threads: " +
         std::to_string(learner_threads) + "\n" +
         bench_train_section(steps, /*eval_episodes=*/1, kMinatarLogEvery);
}

// One row of the MinAtar workload with the learner on `learner_threads` threads (2: the target
// network's values on a second core beside the online forward pass).
BenchResult run_dqn_minatar(const BenchOptions& options, const std::string& name,
                            int learner_threads) {
  const int64_t steps = options.steps.value_or(30000);
  if (steps <= kMinatarLearningStarts || steps % kMinatarLogEvery != 0) {
    throw std::invalid_argument(name + " needs --steps above " +
                                std::to_string(kMinatarLearningStarts) + ", a multiple of " +
                                std::to_string(kMinatarLogEvery));
  }
  return run_training_case(
      name,
      "minatar/breakout-v0, MinAtar paper DQN (one update per frame)" +
          std::string(learner_threads > 1 ? ", target values on a second core" : ""),
      minatar_config(steps, options.seed, learner_threads), kMinatarLearningStarts);
}

RLBENCH_CASE("dqn_minatar_breakout",
             "DQN training on MinAtar Breakout with the paper's settings: frames/s overall and "
             "after learning starts (--steps N, default 30000)",
             false, [](const BenchOptions& options) -> BenchResults {
               return {run_dqn_minatar(options, "dqn_minatar_breakout", 1)};
             });

RLBENCH_CASE("dqn_minatar_breakout_2threads",
             "dqn_minatar_breakout with agent.learner_threads: 2 (target values on a second core)",
             false, [](const BenchOptions& options) -> BenchResults {
               return {run_dqn_minatar(options, "dqn_minatar_breakout_2threads", 2)};
             });

}  // namespace
}  // namespace rl::bench
