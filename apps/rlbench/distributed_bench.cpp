// rlbench --case ddppo_scaling (issue #13): DD-PPO on MinAtar Breakout
// (configs/ppo_minatar_breakout.yaml, its CNN) in 1 and 2 processes: env steps per second of
// rltrain runs of equal length, and the share of a minibatch update that the gradient
// all-reduce takes between 2 ranks (2 threads of this process on loopback Gloo, the config's
// network and minibatch; a warm-up all-reduce before each timed one keeps waiting for the
// slower rank out of the figure).
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agents/common/on_policy.h"
#include "agents/distributed/gloo_group.h"
#include "agents/experiment.h"
#include "apps/rlbench/bench.h"
#include "core/atomic_file.h"
#include "core/json.h"

namespace rl::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kMinibatchRows = 128 * 16 / 8;  // num_steps x num_envs / num_minibatches.
constexpr int kTimedMinibatches = 40;

fs::path breakout_config() {
  const char* dir = std::getenv("RLCADE_SOURCE_DIR");
  const fs::path config =
      fs::path(dir ? dir : RLCADE_SOURCE_DIR) / "configs" / "ppo_minatar_breakout.yaml";
  if (!fs::exists(config)) {
    throw std::runtime_error("ddppo_scaling: " + config.string() +
                             " not found (set RLCADE_SOURCE_DIR to the rlcade checkout)");
  }
  return config;
}

// Trains `steps` env steps in `processes` processes; returns the run's env steps per second.
double rltrain_steps_per_second(int64_t steps, int processes, const fs::path& out) {
  const fs::path rltrain = fs::read_symlink("/proc/self/exe").parent_path() / "rltrain";
  const std::string n = std::to_string(steps);
  std::string command = rltrain.string() + " '" + breakout_config().string() + "' --out '" +
                        out.string() + "' --set train.total_steps=" + n +
                        " --set train.eval_every=0 --set train.eval_episodes=1"
                        " --set train.eval_max_steps=100 --set train.log_every=8192"
                        " --set train.checkpoint_every=0 --set train.tensorboard=false";
  if (processes > 1) command += " --nproc " + std::to_string(processes);
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("ddppo_scaling: rltrain failed: " + command);
  }
  const json::Value summary = json::parse(read_file((out / "summary.json").string()));
  return summary.find("steps_per_second")->as_number();
}

struct UpdateTimes {
  double compute_seconds = 0;    // Forward, backward and the Adam step.
  double allreduce_seconds = 0;  // The gradient all-reduce alone.
};

// One rank's timed minibatch updates of the config's network on random observations.
UpdateTimes time_rank_updates(distributed::GlooGroup& group, Experiment& e) {
  ActorCritic& net = dynamic_cast<OnPolicyAgent&>(*e.agent).network();
  const Space& space = e.env_spec.observation_space;
  std::vector<int64_t> shape = {kMinibatchRows};
  shape.insert(shape.end(), space.shape.begin(), space.shape.end());
  const torch::Tensor observations = torch::rand(shape).round();
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-4));
  UpdateTimes times;
  for (int i = 0; i < kTimedMinibatches + 2; ++i) {
    const bool timed = i >= 2;  // Two warm-up minibatches.
    const Clock::time_point start = Clock::now();
    adam.zero_grad();
    const PolicyOutput output = net->forward(observations);
    (output.actor.pow(2).mean() + output.value.pow(2).mean()).backward();
    const Clock::time_point computed = Clock::now();
    double align[1] = {0};
    group.sum(align);  // Both ranks reach the all-reduce: waiting is not timed.
    const Clock::time_point aligned = Clock::now();
    group.average_gradients(net->parameters());
    const Clock::time_point reduced = Clock::now();
    adam.step();
    const Clock::time_point stepped = Clock::now();
    if (!timed) continue;
    times.compute_seconds += std::chrono::duration<double>(computed - start).count() +
                             std::chrono::duration<double>(stepped - reduced).count();
    times.allreduce_seconds += std::chrono::duration<double>(reduced - aligned).count();
  }
  return times;
}

// Rank 0's update times over 2 ranks.
UpdateTimes two_rank_update_times() {
  ConfigDocument config = load_config(breakout_config().string(), {"train.threads=1"});
  std::vector<Experiment> experiments;
  experiments.reserve(2);
  for (int rank = 0; rank < 2; ++rank) experiments.push_back(build_experiment(config));
  torch::set_num_threads(1);
  distributed::StoreServer store;
  UpdateTimes rank0;
  std::string errors;
  std::mutex mutex;
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        const distributed::LaunchSpec spec =
            distributed::loopback_rank(rank, 2, store.port(), "rlbench");
        const auto group = distributed::GlooGroup::connect(spec, {std::chrono::seconds(60), "b"});
        const UpdateTimes times = time_rank_updates(*group, experiments[rank]);
        if (rank == 0) rank0 = times;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        errors += e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  if (!errors.empty()) throw std::runtime_error("ddppo_scaling: " + errors);
  return rank0;
}

BenchResults run_ddppo_scaling(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(65536);
  const fs::path out = fs::temp_directory_path() / ("rlbench_ddppo_" + std::to_string(::getpid()));
  fs::remove_all(out);
  BenchResult speed{
      "ddppo_scaling", "minatar/breakout-v0 ppo, " + std::to_string(steps) + " steps", {}};
  try {
    const double one = rltrain_steps_per_second(steps, 1, out / "n1");
    const double two = rltrain_steps_per_second(steps, 2, out / "n2");
    speed.metrics = {
        {"steps_per_second_1proc", one}, {"steps_per_second_2proc", two}, {"speedup", two / one}};
  } catch (...) {
    fs::remove_all(out);
    throw;
  }
  fs::remove_all(out);
  const UpdateTimes times = two_rank_update_times();
  const double per = 1000.0 / kTimedMinibatches;
  BenchResult update{"ddppo_scaling",
                     "all-reduce per " + std::to_string(kMinibatchRows) + "-row minibatch, 2 ranks",
                     {{"compute_ms", times.compute_seconds * per},
                      {"allreduce_ms", times.allreduce_seconds * per},
                      {"allreduce_share", times.allreduce_seconds /
                                              (times.compute_seconds + times.allreduce_seconds)}}};
  return {speed, update};
}

RLBENCH_CASE("ddppo_scaling",
             "DD-PPO on MinAtar Breakout: env steps/s in 1 and 2 processes (--steps N, default "
             "65536) and the all-reduce share of a minibatch update",
             false, run_ddppo_scaling);

}  // namespace
}  // namespace rl::bench
