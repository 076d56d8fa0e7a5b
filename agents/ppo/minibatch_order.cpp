#include "agents/ppo/minibatch_order.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>
#include <numeric>
#include <utility>

namespace rl::ppo {

void random_permutation(at::Generator& generator, int64_t n, int64_t* order) {
  std::iota(order, order + n, int64_t{0});
  auto* cpu_generator = at::check_generator<at::CPUGeneratorImpl>(generator);
  const std::lock_guard<std::mutex> lock(generator.mutex());
  for (int64_t i = 0; i + 1 < n; ++i) {
    const int64_t offset = static_cast<int64_t>(cpu_generator->random() % (n - i));
    std::swap(order[i], order[i + offset]);
  }
}

}  // namespace rl::ppo
