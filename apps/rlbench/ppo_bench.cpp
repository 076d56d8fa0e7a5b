// PPO end to end on CartPole with the hyperparameters of CleanRL's ppo.py (4 envs, 128-step
// rollouts, 4 epochs x 4 minibatches, lr 2.5e-4 annealed, 500k steps): the whole training loop
// (envs, acting, GAE, learning, final evaluation) timed as env steps per second.
#include <unistd.h>

#include <filesystem>

#include "agents/experiment.h"
#include "agents/trainer.h"
#include "apps/rlbench/bench.h"

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
         "  max_grad_norm: 0.5\n"
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

BenchResults run_ppo_cartpole(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(500000);
  Experiment experiment =
      build_experiment(ConfigDocument::parse(cleanrl_config(steps, options.seed), "rlbench"));
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("rlbench_ppo_" + std::to_string(::getpid()));
  TrainOptions train_options;
  train_options.run_dir = dir.string();
  TrainSummary summary;
  try {
    summary = train(experiment, train_options);
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  return {{"ppo_cartpole_e2e",
           "classic/cartpole-v1, CleanRL ppo.py settings",
           {{"steps", static_cast<double>(summary.total_steps)},
            {"wall_seconds", summary.wall_seconds},
            {"steps_per_second", summary.steps_per_second},
            {"final_eval_mean", summary.final_eval_mean}}}};
}

RLBENCH_CASE("ppo_cartpole_e2e",
             "PPO training on CartPole with CleanRL ppo.py settings, env steps/s (--steps N)", true,
             run_ppo_cartpole);

}  // namespace
}  // namespace rl::bench
