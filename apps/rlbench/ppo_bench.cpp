// PPO end to end on CartPole with the hyperparameters of CleanRL's ppo.py (4 envs, 128-step
// rollouts, 4 epochs x 4 minibatches, lr 2.5e-4 annealed, 500k steps): the whole training loop
// (envs, acting, GAE, learning, final evaluation) timed as env steps per second. Also PPO with
// RLtools' zoo settings on Pendulum, PPO on MinAtar Breakout, and A2C on CartPole.
#include <string>

#include "apps/rlbench/bench.h"
#include "apps/rlbench/training_case.h"

namespace rl::bench {
namespace {

// cleanrl/ppo.py defaults: 64x64 tanh actor and critic, gamma 0.99, GAE lambda 0.95,
// normalized advantages, clip 0.2 with value clipping, entropy 0.01, value 0.5, grad norm 0.5,
// Adam eps 1e-5.
std::string cleanrl_config(int64_t steps, uint64_t seed) {
  return "name: rlbench_ppo_cartpole\n"
         "seed: " +
         std::to_string(seed) +
         "\n"
         "env: {id: classic/cartpole-v1, num_envs: 4}\n"
         "agent:\n"
         "  type: ppo\n"
         "  hidden: [64, 64]\n"
         "  activation: tanh\n"
         "  num_steps: 128\n"
         "  gamma: 0.99\n"
         "  gae_lambda: 0.95\n"
         "  update_epochs: 4\n"
         "  num_minibatches: 4\n"
         "  lr: 2.5e-4\n"
         "  anneal_lr: true\n"
         "  adam_eps: 1e-5\n"
         "  clip_coef: 0.2\n"
         "  clip_value_loss: true\n"
         "  ent_coef: 0.01\n"
         "  vf_coef: 0.5\n"
         "  max_grad_norm: 0.5\n" +
         bench_train_section(steps, /*eval_episodes=*/10,
                             /*log_every=*/10000);
}

BenchResults run_ppo_cartpole(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(500000);
  return {run_training_case("ppo_cartpole_e2e", "classic/cartpole-v1, CleanRL ppo.py settings",
                            cleanrl_config(steps, options.seed))};
}

RLBENCH_CASE("ppo_cartpole_e2e",
             "PPO training on CartPole with CleanRL ppo.py settings, env steps/s (--steps N)", true,
             run_ppo_cartpole);

// RLtools' zoo PPO on Pendulum-v1 (issue #12), as `rltrain ppo_pendulum --set env.num_envs=64
// --set agent.num_steps=128 --set agent.num_minibatches=8 --set agent.update_epochs=1 --set
// "agent.hidden=[32, 32]"` runs it: 64 envs x 128-step rollouts, one epoch of 8 minibatches of
// 1024 rows, 32x32 tanh MLPs, and the rest of configs/ppo_pendulum.yaml; 1M env steps.
std::string rltools_config(int64_t steps, uint64_t seed, int learner_threads = 1) {
  return "name: rlbench_ppo_pendulum_rltools\nseed: " + std::to_string(seed) +
         "\nenv: {id: classic/pendulum-v1, num_envs: 64}\n"
         "agent: {type: ppo, hidden: [32, 32], activation: tanh, num_steps: 128, gamma: 0.9, "
         "gae_lambda: 0.95, update_epochs: 1, num_minibatches: 8, lr: 1.0e-3, anneal_lr: true, "
         "clip_coef: 0.2, clip_value_loss: false, ent_coef: 0.0, vf_coef: 0.5, "
         "max_grad_norm: 0.5, learner_threads: " +
         std::to_string(learner_threads) + "}\n" +
         bench_train_section(steps, /*eval_episodes=*/10, /*log_every=*/100000);
}

// One row of the RLtools PPO workload with the critic on `learner_threads` threads.
BenchResult run_pendulum_rltools(const BenchOptions& options, const std::string& case_name,
                                 int learner_threads) {
  return run_training_case(
      case_name,
      "classic/pendulum-v1, RLtools zoo PPO settings (64 envs x 128, 32x32)" +
          std::string(learner_threads > 1 ? ", critic on a second core" : ""),
      rltools_config(options.steps.value_or(1000000), options.seed, learner_threads));
}

RLBENCH_CASE("ppo_pendulum_rltools",
             "PPO on Pendulum with RLtools' zoo settings: env steps/s over 1M env steps "
             "(--steps N)",
             true, [](const BenchOptions& options) -> BenchResults {
               return {run_pendulum_rltools(options, "ppo_pendulum_rltools", 1)};
             });

RLBENCH_CASE("ppo_pendulum_rltools_2threads",
             "ppo_pendulum_rltools with agent.learner_threads: 2 (actor and critic on two cores; "
             "the same training bit for bit)",
             false, [](const BenchOptions& options) -> BenchResults {
               return {run_pendulum_rltools(options, "ppo_pendulum_rltools_2threads", 2)};
             });

// configs/ppo_minatar_breakout.yaml's settings (16 envs x 128-step rollouts, shared MinAtar CNN
// torso of 16 channels and 128 hidden units, 4 epochs x 8 minibatches, sticky actions 0.1) as a
// throughput case: env steps/s over 200k env steps by default.
std::string minatar_config(int64_t steps, uint64_t seed) {
  return "name: rlbench_ppo_minatar_breakout\nseed: " + std::to_string(seed) +
         "\nenv: {id: minatar/breakout-v0, params: {sticky_action_prob: 0.1}, num_envs: 16}\n"
         "agent: {type: ppo, torso: minatar_cnn, shared_torso: true, cnn_channels: 16, "
         "cnn_hidden: 128, num_steps: 128, gamma: 0.99, gae_lambda: 0.95, update_epochs: 4, "
         "num_minibatches: 8, lr: 1.0e-3, anneal_lr: true, clip_coef: 0.2, ent_coef: 0.01, "
         "vf_coef: 0.5, max_grad_norm: 0.5}\n" +
         bench_train_section(steps, /*eval_episodes=*/10, /*log_every=*/20480);
}

BenchResults run_ppo_minatar(const BenchOptions& options) {
  return {run_training_case("ppo_minatar_breakout",
                            "minatar/breakout-v0, configs/ppo_minatar_breakout.yaml settings",
                            minatar_config(options.steps.value_or(200000), options.seed))};
}

RLBENCH_CASE("ppo_minatar_breakout",
             "PPO on MinAtar Breakout with the shipped config's settings: env steps/s over 200k "
             "env steps (--steps N)",
             false, run_ppo_minatar);

// configs/a2c_cartpole.yaml's settings (8 envs x 5-step rollouts, 64x64 tanh, RMSprop 7e-4, one
// gradient step per rollout) on `backend`: env steps/s over 500k env steps by default.
std::string a2c_config(int64_t steps, uint64_t seed, const std::string& backend) {
  return "name: rlbench_a2c_cartpole\nseed: " + std::to_string(seed) +
         "\nenv: {id: classic/cartpole-v1, num_envs: 8}\n"
         "agent: {type: a2c, hidden: [64, 64], num_steps: 5, gamma: 0.99, gae_lambda: 1.0, "
         "optimizer: rmsprop, lr: 7.0e-4, ent_coef: 0.0, vf_coef: 0.5, max_grad_norm: 0.5, "
         "backend: " +
         backend + "}\n" + bench_train_section(steps, /*eval_episodes=*/10, /*log_every=*/50000);
}

BenchResults run_a2c_cartpole(const BenchOptions& options, const std::string& backend) {
  const std::string name = backend == "torch" ? "a2c_cartpole_e2e_torch" : "a2c_cartpole_e2e";
  return {run_training_case(
      name, "classic/cartpole-v1, configs/a2c_cartpole.yaml settings, backend " + backend,
      a2c_config(options.steps.value_or(500000), options.seed, backend))};
}

RLBENCH_CASE("a2c_cartpole_e2e",
             "A2C on CartPole with the shipped config's settings on the engine (RMSprop): env "
             "steps/s over 500k env steps (--steps N)",
             false, [](const BenchOptions& o) { return run_a2c_cartpole(o, "auto"); });

RLBENCH_CASE("a2c_cartpole_e2e_torch",
             "a2c_cartpole_e2e on LibTorch autograd and torch::optim::RMSprop (agent.backend: "
             "torch), for comparison",
             false, [](const BenchOptions& o) { return run_a2c_cartpole(o, "torch"); });

}  // namespace
}  // namespace rl::bench
