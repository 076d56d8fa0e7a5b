// Policy-server cases: `rlserve --policy` (ACT requests, protocol 1.1) over loopback, with the
// C++ PolicyClient (envs/remote/policy_client.h) against an in-process server on an ephemeral
// 127.0.0.1 port, serving on one thread as rlserve does by default.
//
//   policy_cartpole_batched   ACT with 256 CartPole observations per request: observations/s
//                             (target: at least 500k/s)
//   policy_cartpole_lockstep  ACT with 1 observation per request, next to the env server's
//                             lock-step STEP round trip (remote_cartpole_lockstep): the ACT
//                             round trip should take at most 1.5x as long (act_over_step_time)
//
// The policy is configs/dqn_cartpole.yaml's DQN, untrained and exported as rlexport would: the
// network a trained one has, so the same cost. rl::Policy computes it on the dense engine
// (agents/export/dense_plan.h), named in the lock-step row. Observations are drawn before timing.
// --seconds S is the timed budget of each row (default 0.3), split into 3 windows; rates are means
// over the windows with their standard errors.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "agents/export/policy_export.h"
#include "apps/rlbench/bench.h"
#include "apps/rlserve/policy/policy_service.h"
#include "core/rng.h"
#include "envs/remote/loopback_bench.h"
#include "envs/remote/policy_client.h"

namespace rl::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWindows = 3;
constexpr uint32_t kBatch = 256;

// configs/dqn_cartpole.yaml's agent, exported to a temporary file and loaded back.
std::shared_ptr<serving::PolicyPool> cartpole_policy() {
  const char* dir = std::getenv("RLCADE_SOURCE_DIR");
  const std::filesystem::path config =
      std::filesystem::path(dir ? dir : RLCADE_SOURCE_DIR) / "configs" / "dqn_cartpole.yaml";
  Experiment experiment = build_experiment(load_config(config.string(), {}));
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / "rlbench-policy-cartpole.pt";
  save_policy(export_policy(experiment), file.string());
  auto pool = serving::load_policy_pool(file.string(), 1, [](const std::string&) {});
  std::filesystem::remove(file);
  return pool;
}

// A policy server for the bench's lifetime.
class PolicyServer {
 public:
  PolicyServer() : pool_(cartpole_policy()) {
    remote::ServerOptions options;
    options.service = serving::policy_service_factory(pool_, 4096);
    server_ = std::make_unique<remote::Server>(std::move(options));
    server_->start();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  serving::PolicyPool& pool() { return *pool_; }

 private:
  std::shared_ptr<serving::PolicyPool> pool_;
  std::unique_ptr<remote::Server> server_;
};

std::vector<uint8_t> random_observations(const Space& space, uint32_t batch, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> values(batch * static_cast<size_t>(space.numel()));
  for (float& v : values) v = static_cast<float>(rng.uniform(-0.2, 0.2));
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// ACT round trips per second of `batch` observations, one sample per window.
std::vector<double> act_round_trips(const std::string& address, uint32_t batch,
                                    const BenchOptions& options) {
  auto client = remote::PolicyClient::connect(address);
  const std::vector<uint8_t> obs =
      random_observations(client->observation_space(), batch, options.seed);
  const auto warmup_end = Clock::now() + std::chrono::milliseconds(50);
  while (Clock::now() < warmup_end) client->act(obs, batch);
  std::vector<double> rates;
  const std::chrono::duration<double> window(options.seconds_per_env / kWindows);
  for (int w = 0; w < kWindows; ++w) {
    const auto start = Clock::now();
    int64_t trips = 0;
    while (Clock::now() - start < window) {
      client->act(obs, batch);
      ++trips;
    }
    rates.push_back(trips / std::chrono::duration<double>(Clock::now() - start).count());
  }
  client->close();
  return rates;
}

// Policy::act calls per second on one observation in this process, without any socket: the
// cost the protocol adds to.
double local_acts_per_second(serving::PolicyPool& pool, const BenchOptions& options) {
  const std::vector<uint8_t> obs =
      random_observations(pool.front().observation_space(), 1, options.seed);
  int64_t action = 0;
  const auto start = Clock::now();
  int64_t calls = 0;
  while (Clock::now() - start < std::chrono::duration<double>(options.seconds_per_env)) {
    pool.act(obs, 1, {&action, 1}, {}, {});
    ++calls;
  }
  return calls / std::chrono::duration<double>(Clock::now() - start).count();
}

// Mean of positive, finite rates (anything else means the measurement broke).
double mean_rate(const std::string& what, const std::vector<double>& rates) {
  double sum = 0;
  for (double r : rates) {
    if (!(r > 0) || !std::isfinite(r))
      throw std::runtime_error(what + ": measured a rate of " + std::to_string(r));
    sum += r;
  }
  return sum / static_cast<double>(rates.size());
}

double standard_error(const std::vector<double>& rates, double mean) {
  double squares = 0;
  for (double r : rates) squares += (r - mean) * (r - mean);
  const double n = static_cast<double>(rates.size());
  return n > 1 ? std::sqrt(squares / (n - 1) / n) : 0.0;
}

BenchResults batched(const BenchOptions& options) {
  PolicyServer server;
  std::vector<double> observations;
  for (double trips : act_round_trips(server.address(), kBatch, options))
    observations.push_back(trips * kBatch);
  const double mean = mean_rate("policy_cartpole_batched", observations);
  return {{"policy_cartpole_batched",
           "classic/cartpole-v1 B=" + std::to_string(kBatch) + " ACT, C++ client",
           {{"observations_per_second", mean},
            {"observations_per_second_stderr", standard_error(observations, mean)},
            {"round_trips_per_second", mean / kBatch}}}};
}

BenchResults lockstep(const BenchOptions& options) {
  PolicyServer server;
  const std::vector<double> act = act_round_trips(server.address(), 1, options);
  const double act_mean = mean_rate("policy_cartpole_lockstep", act);
  remote::LoopbackServer env_server("classic/cartpole-v1");
  remote::LoopbackBenchSpec spec;
  spec.seconds = options.seconds_per_env;
  spec.windows = kWindows;
  spec.seed = options.seed;
  std::vector<double> step;
  for (const auto& s : remote::measure_loopback(env_server.address(), spec))
    step.push_back(s.round_trips_per_second);
  const double step_mean = mean_rate("policy_cartpole_lockstep (STEP)", step);
  return {{"policy_cartpole_lockstep",
           "classic/cartpole-v1 B=1 ACT (" + std::string(server.pool().front().engine()) +
               " engine) vs N=1 STEP, C++ clients",
           {{"act_round_trips_per_second", act_mean},
            {"act_round_trips_per_second_stderr", standard_error(act, act_mean)},
            {"step_round_trips_per_second", step_mean},
            {"step_round_trips_per_second_stderr", standard_error(step, step_mean)},
            {"act_over_step_time", step_mean / act_mean},
            {"local_acts_per_second", local_acts_per_second(server.pool(), options)}}}};
}

RLBENCH_CASE("policy_cartpole_batched",
             "served DQN policy, ACT of 256 CartPole observations over loopback: observations/s",
             true, batched);
RLBENCH_CASE("policy_cartpole_lockstep",
             "served DQN policy, ACT of 1 observation vs the env server's STEP round trip", true,
             lockstep);

}  // namespace
}  // namespace rl::bench
