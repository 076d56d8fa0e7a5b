// `rlserve --bench`: loopback throughput of the wire protocol for one env id, lock-step with
// one env and batched with N envs per connection, binary and JSON observations, next to the
// env stepped locally without any socket.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rl::remote {

struct BenchOptions {
  std::string env_id = "classic/cartpole-v1";
  std::vector<uint32_t> batch_sizes{1, 16, 256};
  double seconds = 2.0;  // per measurement
};

// Prints one line per measurement; returns 0.
int run_bench(const BenchOptions& options);

}  // namespace rl::remote
