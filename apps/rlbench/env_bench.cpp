// Env cases: single-thread random-policy throughput of every registered env (or --env ID),
// and with --episodes N the mean return and length of N random-play episodes.
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "apps/rlbench/bench.h"
#include "core/registry.h"

namespace rl::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> selected_envs(const BenchOptions& options) {
  const EnvRegistry& registry = EnvRegistry::global();
  if (options.env) {
    registry.find(*options.env);  // Throws for an unknown id, listing the known ones.
    return {*options.env};
  }
  std::vector<std::string> ids;
  for (const std::string& id : registry.ids()) {
    if (registry.find(id).self_contained) ids.push_back(id);
  }
  return ids;
}

// Pre-drawn random actions, cycled, so the measurement is the env rather than the sampler.
struct RandomActions {
  static constexpr size_t kCount = 4096;
  std::vector<int64_t> discrete;
  std::vector<float> continuous;
  int64_t numel = 0;

  RandomActions(const Space& space, Rng& rng) {
    std::vector<float> values;
    for (size_t i = 0; i < kCount; ++i) {
      const int64_t index = sample_space(space, rng, values);
      discrete.push_back(index);
      continuous.insert(continuous.end(), values.begin(), values.end());
    }
    numel = space.is_discrete() ? 0 : space.numel();
  }
  Action at(size_t i) const {
    i %= kCount;
    if (numel == 0) return Action::discrete(discrete[i]);
    return Action::continuous(std::span<const float>(continuous).subspan(i * numel, numel));
  }
};

double steps_per_second(const std::string& id, const BenchOptions& options) {
  std::unique_ptr<Env> env = EnvRegistry::global().make(id);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  Rng rng(options.seed);
  const RandomActions actions(env->spec().action_space, rng);
  uint64_t seed = options.seed;
  env->reset(seed++, obs);
  int64_t steps = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < options.seconds_per_env) {
    for (int k = 0; k < 1024; ++k, ++steps) {
      if (env->step(actions.at(static_cast<size_t>(steps)), obs).done()) env->reset(obs);
    }
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(steps) / elapsed;
}

// Mean and standard error of the mean.
std::pair<double, double> mean_stderr(const std::vector<double>& xs) {
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= static_cast<double>(xs.size());
  double var = 0;
  for (double x : xs) var += (x - mean) * (x - mean);
  var = xs.size() > 1 ? var / static_cast<double>(xs.size() - 1) : 0.0;
  return {mean, std::sqrt(var / static_cast<double>(xs.size()))};
}

BenchResult random_episodes(const std::string& id, const BenchOptions& options) {
  std::unique_ptr<Env> env = EnvRegistry::global().make(id);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  Rng rng(options.seed);
  std::vector<float> values;
  std::vector<double> returns, lengths;
  // Episodes without a step limit are cut here so a never-ending env cannot hang the bench.
  constexpr int64_t kMaxSteps = 1'000'000;
  for (int64_t e = 0; e < *options.episodes; ++e) {
    env->reset(options.seed + static_cast<uint64_t>(e), obs);
    double total = 0;
    int64_t length = 0;
    for (; length < kMaxSteps; ++length) {
      const int64_t index = sample_space(env->spec().action_space, rng, values);
      const Action action = env->spec().action_space.is_discrete() ? Action::discrete(index)
                                                                   : Action::continuous(values);
      const StepResult r = env->step(action, obs);
      total += r.reward;
      if (r.done()) {
        ++length;
        break;
      }
    }
    returns.push_back(total);
    lengths.push_back(static_cast<double>(length));
  }
  const auto [return_mean, return_se] = mean_stderr(returns);
  const auto [length_mean, length_se] = mean_stderr(lengths);
  return {"env_random_episodes",
          id,
          {{"episodes", static_cast<double>(*options.episodes)},
           {"return_mean", return_mean},
           {"return_mean_stderr", return_se},
           {"length_mean", length_mean},
           {"length_mean_stderr", length_se}}};
}

RLBENCH_CASE(
    "env_steps", "Random-policy env steps per second, single thread (every env or --env)", true,
    [](const BenchOptions& options) {
      BenchResults results;
      for (const std::string& id : selected_envs(options)) {
        results.push_back({"env_steps", id, {{"steps_per_second", steps_per_second(id, options)}}});
      }
      return results;
    });

RLBENCH_CASE("env_random_episodes",
             "With --episodes N: mean return and length of N random-play episodes (+- s.e.)", true,
             [](const BenchOptions& options) {
               BenchResults results;
               if (!options.episodes) return results;
               if (*options.episodes < 1) throw std::invalid_argument("--episodes must be >= 1");
               for (const std::string& id : selected_envs(options)) {
                 results.push_back(random_episodes(id, options));
               }
               return results;
             });

}  // namespace
}  // namespace rl::bench
