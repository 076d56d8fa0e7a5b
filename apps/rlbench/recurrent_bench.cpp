// Recurrent PPO's cost against feed-forward PPO's (issue #15's target: at least half the
// throughput): configs/ppo_lstm_cartpole_novel.yaml and its feed-forward twin
// (configs/ppo_cartpole_novel.yaml, on the small-network engine and on LibTorch) trained end to
// end for the same steps, each timed in process CPU seconds (less sensitive to a busy machine
// than wall time) and in wall time.
#include <sys/resource.h>

#include <string>

#include "apps/rlbench/bench.h"
#include "apps/rlbench/training_case.h"

namespace rl::bench {
namespace {

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The settings of configs/ppo_lstm_cartpole_novel.yaml; `recurrent` is the agent.recurrent
// flow map, empty for the feed-forward twin; `extra` more agent lines.
std::string cartpole_novel_config(const std::string& recurrent, const std::string& extra,
                                  int64_t steps, uint64_t seed) {
  std::string agent =
      "agent:\n"
      "  type: ppo\n"
      "  hidden: [64]\n"
      "  activation: relu\n"
      "  normalize_observations: true\n"
      "  normalize_reward: true\n"
      "  num_steps: 32\n"
      "  gamma: 0.98\n"
      "  gae_lambda: 0.8\n"
      "  update_epochs: 20\n"
      "  num_minibatches: 1\n"
      "  lr: 1.0e-3\n"
      "  anneal_lr: true\n"
      "  clip_coef: 0.2\n"
      "  anneal_clip: true\n"
      "  clip_value_loss: false\n"
      "  ent_coef: 0.0\n"
      "  vf_coef: 0.5\n"
      "  max_grad_norm: 0.5\n";
  if (!recurrent.empty()) agent += "  recurrent: " + recurrent + "\n";
  agent += extra;
  return "name: rlbench_ppo_cartpole_novel\nseed: " + std::to_string(seed) +
         "\nenv: {id: classic/cartpole-novel-v1, num_envs: 8}\n" + agent +
         bench_train_section(steps, /*eval_episodes=*/5, /*log_every=*/8192);
}

// Trains one variant and adds its CPU time and CPU-time throughput to the row.
BenchResult timed_case(const std::string& name, const std::string& recurrent,
                       const std::string& extra, int64_t steps, uint64_t seed) {
  const double cpu_before = process_cpu_seconds();
  BenchResult result =
      run_training_case(name, "classic/cartpole-novel-v1, ppo_lstm_cartpole_novel settings",
                        cartpole_novel_config(recurrent, extra, steps, seed));
  const double cpu = process_cpu_seconds() - cpu_before;
  result.metrics.emplace_back("cpu_seconds", cpu);
  result.metrics.emplace_back("steps_per_cpu_second", static_cast<double>(steps) / cpu);
  return result;
}

double metric(const BenchResult& result, const std::string& name) {
  for (const auto& [key, value] : result.metrics) {
    if (key == name) return value;
  }
  return 0.0;
}

BenchResults run_recurrent_throughput(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(40960);
  // Feed-forward on the small-network engine (backend auto) and on LibTorch: the recurrent
  // networks always train on LibTorch, so the second is the like-for-like reference.
  BenchResult feed_forward = timed_case("ppo_cartpole_novel", "", "", steps, options.seed);
  BenchResult feed_forward_torch =
      timed_case("ppo_cartpole_novel_torch", "", "  backend: torch\n", steps, options.seed);
  BenchResult lstm =
      timed_case("ppo_lstm_cartpole_novel", "{type: lstm, hidden: 64}", "", steps, options.seed);
  BenchResult gru =
      timed_case("ppo_gru_cartpole_novel", "{type: gru, hidden: 64}", "", steps, options.seed);
  const double engine = metric(feed_forward, "steps_per_cpu_second");
  const double libtorch = metric(feed_forward_torch, "steps_per_cpu_second");
  for (BenchResult* r : {&feed_forward_torch, &lstm, &gru}) {
    r->metrics.emplace_back("cpu_throughput_vs_feed_forward",
                            metric(*r, "steps_per_cpu_second") / engine);
    r->metrics.emplace_back("cpu_throughput_vs_feed_forward_torch",
                            metric(*r, "steps_per_cpu_second") / libtorch);
  }
  return {feed_forward, feed_forward_torch, lstm, gru};
}

RLBENCH_CASE("ppo_recurrent_throughput",
             "Recurrent PPO (LSTM, GRU) against feed-forward PPO on cartpole-novel with the "
             "ppo_lstm_cartpole_novel settings: steps per CPU second and the ratio (--steps N, "
             "default 40960)",
             true, run_recurrent_throughput);

}  // namespace
}  // namespace rl::bench
