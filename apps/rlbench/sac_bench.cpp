// SAC on Pendulum (configs/sac_pendulum.yaml settings): training wall time until a greedy
// evaluation first reaches -200, and where that time goes (env steps, acting forward passes,
// replay insertion and sampling, learning forward, backward, optimizer). Evaluations (10
// episodes every 1000 steps) are timed apart and excluded from the training time.
#include <chrono>
#include <string>

#include "agents/experiment.h"
#include "agents/sac/sac_agent.h"
#include "agents/torch_setup.h"
#include "agents/trainer.h"
#include "apps/rlbench/bench.h"
#include "apps/rlbench/training_case.h"
#include "core/vector_env.h"

namespace rl::bench {
namespace {

constexpr double kTargetReturn = -200.0;
constexpr int64_t kEvalEvery = 1000;

std::string sac_config(int64_t steps, uint64_t seed, const std::string& hidden) {
  return "name: rlbench_sac_pendulum\n"
         "seed: " +
         std::to_string(seed) +
         "\n"
         "env: {id: classic/pendulum-v1, num_envs: 1}\n"
         "agent:\n"
         "  type: sac\n"
         "  hidden: " +
         hidden +
         "\n"
         "  gamma: 0.99\n"
         "  tau: 0.005\n"
         "  batch_size: 256\n"
         "  buffer_size: 100000\n"
         "  learning_starts: 1000\n"
         "  policy_frequency: 2\n"
         "  policy_lr: 1.0e-3\n"
         "  q_lr: 1.0e-3\n"
         "train: {total_steps: " +
         std::to_string(steps) + ", threads: 1}\n";
}

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

BenchResult run_one(const BenchOptions& options, const std::string& hidden) {
  const int64_t max_steps = options.steps.value_or(20000);
  Experiment e = build_experiment(
      ConfigDocument::parse(sac_config(max_steps, options.seed, hidden), "rlbench"));
  set_compute_threads(1);
  auto& agent = dynamic_cast<SacAgent&>(*e.agent);
  VectorEnv env([&e] { return e.make_env(); }, 1, options.seed);
  env.reset();
  VectorTransitions transitions(env);
  std::vector<float> actions(static_cast<size_t>(env.spec().action_space.numel()));
  double env_seconds = 0, observe_seconds = 0, training_seconds = 0, eval_seconds = 0;
  double solved_seconds = -1, last_eval = NAN;
  int64_t solved_step = -1, step = 0;
  const Clock::time_point start = Clock::now();
  while (step < max_steps && solved_step < 0) {
    agent.act(transitions.begin_step(env), 1, ActMode::kExplore, {{}, actions});
    Clock::time_point t = Clock::now();
    env.step(std::span<const float>(actions));
    env_seconds += since(t);
    const TransitionBatch batch = transitions.end_step(env, {}, actions, false);
    t = Clock::now();
    agent.observe(batch);
    observe_seconds += since(t);
    agent.update(++step);
    if (step % kEvalEvery == 0) {
      const Clock::time_point eval_start = Clock::now();
      last_eval = evaluate(e, 10, options.seed + kEvaluationSeedOffset, 1000).mean;
      eval_seconds += since(eval_start);
      if (last_eval >= kTargetReturn) {
        solved_step = step;
        solved_seconds = since(start) - eval_seconds;
      }
    }
  }
  training_seconds = since(start) - eval_seconds;
  const SacTimings& t = agent.timings();
  const double accounted =
      env_seconds + observe_seconds + t.act + t.sample + t.forward + t.backward + t.optimizer;
  return {"sac_pendulum_to_-200",
          "classic/pendulum-v1, hidden " + hidden,
          {{"steps", static_cast<double>(step)},
           {"solved_at_step", static_cast<double>(solved_step)},
           {"seconds_to_-200", solved_seconds},
           {"last_eval_mean", last_eval},
           {"training_seconds", training_seconds},
           {"eval_seconds", eval_seconds},
           {"env_seconds", env_seconds},
           {"act_forward_seconds", t.act},
           {"replay_add_seconds", observe_seconds},
           {"replay_sample_seconds", t.sample},
           {"learn_forward_seconds", t.forward},
           {"backward_seconds", t.backward},
           {"optimizer_seconds", t.optimizer},
           {"other_seconds", training_seconds - accounted}}};
}

BenchResults run_sac_pendulum(const BenchOptions& options) {
  // CleanRL's 256x256 networks, and 64x64 ones (the size fast C++ implementations use).
  return {run_one(options, "[256, 256]"), run_one(options, "[64, 64]")};
}

RLBENCH_CASE("sac_pendulum_to_-200",
             "SAC on Pendulum: training seconds until a greedy evaluation reaches -200, with a "
             "time profile (--steps N caps the run, default 20000)",
             false, run_sac_pendulum);

// RLtools' zoo SAC on Pendulum-v1 (issue #12): 20k env steps, batch 100, 64x64 ReLU MLPs,
// critic, actor and Polyak updates every step after 100 random steps (gamma 0.99 and tau
// 0.005 are SAC's defaults); wall seconds for the whole run, as RLtools' benchmark reports.
// `learner_threads` 2 runs the twin critics one per core.
std::string rltools_config(int64_t steps, uint64_t seed, int learner_threads) {
  return "name: rlbench_sac_pendulum_rltools\nseed: " + std::to_string(seed) +
         "\nenv: {id: classic/pendulum-v1, num_envs: 1}\n"
         "agent: {type: sac, hidden: [64, 64], batch_size: 100, buffer_size: 100000, "
         "learning_starts: 100, policy_frequency: 1, policy_lr: 1.0e-3, q_lr: 1.0e-3, "
         "learner_threads: " +
         std::to_string(learner_threads) + "}\n" +
         bench_train_section(steps, /*eval_episodes=*/10, /*log_every=*/1000);
}

BenchResults run_sac_pendulum_rltools(const BenchOptions& options) {
  return {run_training_case("sac_pendulum_rltools",
                            "classic/pendulum-v1, RLtools zoo SAC settings (batch 100, 64x64)",
                            rltools_config(options.steps.value_or(20000), options.seed, 1))};
}

BenchResults run_sac_pendulum_rltools_2threads(const BenchOptions& options) {
  return {
      run_training_case("sac_pendulum_rltools_2threads",
                        "classic/pendulum-v1, RLtools zoo SAC settings, twin critics on two cores",
                        rltools_config(options.steps.value_or(20000), options.seed, 2))};
}

RLBENCH_CASE("sac_pendulum_rltools",
             "SAC on Pendulum with RLtools' zoo settings: wall seconds for 20k env steps "
             "(--steps N)",
             true, run_sac_pendulum_rltools);

RLBENCH_CASE("sac_pendulum_rltools_2threads",
             "sac_pendulum_rltools with agent.learner_threads: 2 (the twin critics one per "
             "core): wall seconds for 20k env steps (--steps N)",
             false, run_sac_pendulum_rltools_2threads);

}  // namespace
}  // namespace rl::bench
