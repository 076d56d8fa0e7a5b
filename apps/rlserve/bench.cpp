#include "bench.h"

#include <cstdio>

#include "envs/remote/loopback_bench.h"

namespace rl::remote {

int run_bench(const BenchOptions& options) {
  LoopbackServer server(options.env_id);
  std::printf("rlserve --bench %s (loopback, 1 server thread, %.1f s per line)\n",
              options.env_id.c_str(), options.seconds);
  std::printf("  local, no socket          %12.0f env-steps/s\n",
              local_env_steps_per_second(options.env_id, options.seconds, 1));
  for (const std::string encoding : {"binary", "json"}) {
    for (uint32_t n : options.batch_sizes) {
      LoopbackBenchSpec spec;
      spec.num_envs = n;
      spec.encoding = encoding;
      spec.seconds = options.seconds;
      spec.seed = 1;
      const ThroughputSample m = measure_loopback(server.address(), spec).front();
      std::printf("  %-6s N=%-5u %s %12.0f env-steps/s %10.0f round trips/s\n", encoding.c_str(), n,
                  n == 1 ? "lock-step" : "batched  ", m.env_steps_per_second,
                  m.round_trips_per_second);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace rl::remote
