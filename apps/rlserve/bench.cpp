#include "bench.h"

#include <chrono>
#include <cstdio>

#include "core/registry.h"
#include "envs/remote/client.h"
#include "envs/remote/server.h"

namespace rl::remote {
namespace {

using Clock = std::chrono::steady_clock;

struct Measurement {
  double env_steps_per_second;
  double requests_per_second;
};

// Steps the env in-process (the cost without any protocol).
double local_steps_per_second(const std::string& env_id, double seconds) {
  auto env = EnvRegistry::global().make(env_id);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  std::vector<float> values;
  Rng rng(1);
  env->reset(1, obs);
  int64_t steps = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    for (int i = 0; i < 256; ++i, ++steps) {
      const int64_t a = sample_space(env->spec().action_space, rng, values);
      if (env->step(Action{a, values}, obs).done()) env->reset(obs);
    }
  }
  return steps / std::chrono::duration<double>(Clock::now() - start).count();
}

Measurement remote_steps_per_second(const std::string& address, uint32_t num_envs,
                                    const std::string& encoding, double seconds) {
  ClientOptions options;
  options.num_envs = num_envs;
  options.observation_encoding = encoding;
  auto client = Client::connect(address, options);
  const Space& action_space = client->welcome().action_space;
  Rng rng(2);
  std::vector<float> values, continuous;
  std::vector<int64_t> discrete(num_envs);
  client->reset(1);
  int64_t requests = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    for (int i = 0; i < 32; ++i, ++requests) {
      if (action_space.is_discrete()) {
        for (auto& a : discrete) a = sample_space(action_space, rng, values);
        client->step(discrete);
      } else {
        continuous.clear();
        for (uint32_t e = 0; e < num_envs; ++e) {
          sample_space(action_space, rng, values);
          continuous.insert(continuous.end(), values.begin(), values.end());
        }
        client->step(continuous);
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  client->close();
  return {requests * num_envs / elapsed, requests / elapsed};
}

}  // namespace

int run_bench(const BenchOptions& options) {
  ServerOptions server_options;
  server_options.env_id = options.env_id;
  server_options.port = 0;
  server_options.max_envs_per_connection = 1 << 16;
  Server server(server_options);
  server.start();
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  std::printf("rlserve --bench %s (loopback, 1 server thread, %.1f s per line)\n",
              options.env_id.c_str(), options.seconds);
  std::printf("  local, no socket          %12.0f env-steps/s\n",
              local_steps_per_second(options.env_id, options.seconds));
  for (const std::string encoding : {"binary", "json"}) {
    for (uint32_t n : options.batch_sizes) {
      const Measurement m = remote_steps_per_second(address, n, encoding, options.seconds);
      std::printf("  %-6s N=%-5u %s %12.0f env-steps/s %10.0f round trips/s\n", encoding.c_str(), n,
                  n == 1 ? "lock-step" : "batched  ", m.env_steps_per_second,
                  m.requests_per_second);
      std::fflush(stdout);
    }
  }
  server.stop();
  return 0;
}

}  // namespace rl::remote
