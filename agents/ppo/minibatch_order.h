// PPO's minibatch order of an epoch: a random permutation of the rollout rows drawn from the
// agent's generator, into a caller's buffer (no tensor, no allocation per epoch).
#pragma once

#include <ATen/core/Generator.h>

#include <cstdint>

namespace rl::ppo {

// Writes the permutation of 0 .. n-1 that torch::randperm(n, generator) would return, drawing
// the same numbers from `generator` (a CPU generator), into `order` [n]: a Fisher-Yates shuffle
// swapping row i with row i + (draw mod (n - i)), as LibTorch's CPU randperm does.
void random_permutation(at::Generator& generator, int64_t n, int64_t* order);

}  // namespace rl::ppo
