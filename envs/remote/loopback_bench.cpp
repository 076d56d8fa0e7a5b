#include "envs/remote/loopback_bench.h"

#include <time.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "core/registry.h"
#include "envs/remote/client.h"

namespace rl::remote {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Random actions drawn before timing: `rows` actions of one env each, read as a sliding window
// of N consecutive rows per round trip so the sampler is not what gets measured.
class ActionPool {
 public:
  static constexpr size_t kDistinct = 4096;

  ActionPool(const Space& space, uint32_t num_envs, uint64_t seed)
      : num_envs_(num_envs), numel_(space.is_discrete() ? 1 : space.numel()) {
    Rng rng(seed);
    std::vector<float> values;
    const size_t rows = kDistinct + num_envs;
    for (size_t i = 0; i < rows; ++i) {
      const int64_t index = sample_space(space, rng, values);
      if (space.is_discrete()) {
        discrete_.push_back(index);
      } else {
        continuous_.insert(continuous_.end(), values.begin(), values.end());
      }
    }
  }
  // The actions of all envs for round trip `round`.
  std::span<const int64_t> discrete(int64_t round) const {
    return std::span<const int64_t>(discrete_).subspan(offset(round), num_envs_);
  }
  std::span<const float> continuous(int64_t round) const {
    return std::span<const float>(continuous_)
        .subspan(offset(round) * numel_, size_t{num_envs_} * numel_);
  }

 private:
  size_t offset(int64_t round) const { return static_cast<size_t>(round * 97) % kDistinct; }

  uint32_t num_envs_;
  size_t numel_;
  std::vector<int64_t> discrete_;
  std::vector<float> continuous_;
};

}  // namespace

LoopbackServer::LoopbackServer(const std::string& env_id, int threads) {
  ServerOptions options;
  options.env_id = env_id;
  options.bind_host = "127.0.0.1";
  options.port = 0;
  options.threads = threads;
  options.max_envs_per_connection = 1 << 16;
  server_ = std::make_unique<Server>(options);
  server_->start();
  address_ = "127.0.0.1:" + std::to_string(server_->port());
}

LoopbackServer::~LoopbackServer() { server_->stop(); }

std::vector<ThroughputSample> measure_loopback(const std::string& address,
                                               const LoopbackBenchSpec& spec) {
  if (spec.num_envs < 1) throw std::invalid_argument("measure_loopback: num_envs must be >= 1");
  if (spec.windows < 1) throw std::invalid_argument("measure_loopback: windows must be >= 1");
  if (!(spec.seconds > 0) || !(spec.warmup_seconds >= 0))
    throw std::invalid_argument("measure_loopback: seconds must be > 0 and warm-up >= 0");
  ClientOptions options;
  options.num_envs = spec.num_envs;
  options.observation_encoding = spec.encoding;
  options.client_name = "rlcade loopback bench";
  auto client = Client::connect(address, options);
  const Space& action_space = client->welcome().action_space;
  const ActionPool actions(action_space, spec.num_envs, spec.seed + 1);
  int64_t round = 0;
  auto step_once = [&] {
    if (action_space.is_discrete()) {
      client->step(actions.discrete(round++));
    } else {
      client->step(actions.continuous(round++));
    }
  };
  client->reset(spec.seed);
  const auto warmup_start = Clock::now();
  while (seconds_since(warmup_start) < spec.warmup_seconds) step_once();

  std::vector<ThroughputSample> samples;
  const double window = spec.seconds / spec.windows;
  for (int w = 0; w < spec.windows; ++w) {
    int64_t trips = 0;
    const double cpu_start = process_cpu_seconds();
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      step_once();
      ++trips;
      elapsed = seconds_since(start);
    } while (elapsed < window);
    const double cpu = process_cpu_seconds() - cpu_start;
    samples.push_back(
        {static_cast<double>(trips) * spec.num_envs / elapsed, trips / elapsed, cpu / elapsed});
  }
  client->close();
  return samples;
}

double local_env_steps_per_second(const std::string& env_id, double seconds, uint64_t seed) {
  auto env = EnvRegistry::global().make(env_id);
  const Space& action_space = env->spec().action_space;
  const ActionPool actions(action_space, 1, seed + 1);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(seed, obs);
  int64_t steps = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 256; ++i, ++steps) {
      const Action action = action_space.is_discrete()
                                ? Action::discrete(actions.discrete(steps)[0])
                                : Action::continuous(actions.continuous(steps));
      if (env->step(action, obs).done()) env->reset(obs);
    }
    elapsed = seconds_since(start);
  } while (elapsed < seconds);
  return static_cast<double>(steps) / elapsed;
}

}  // namespace rl::remote
