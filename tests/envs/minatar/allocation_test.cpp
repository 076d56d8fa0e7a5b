// MinAtar envs must not touch the heap while stepping or starting new episodes. This file
// replaces the global operator new of the test executable with a counting one.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "core/registry.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace rl {
namespace {

TEST_CASE("MinAtar envs step and reset without allocating") {
  for (const auto& id : EnvRegistry::global().ids()) {
    if (id.rfind("minatar/", 0) != 0) continue;
    INFO("env ", id);
    auto env = EnvRegistry::global().make(id);
    std::vector<uint8_t> obs(env->spec().observation_space.bytes());
    env->reset(5, obs);
    Rng policy(11);
    const int64_t n = env->spec().action_space.n;
    const long before = g_allocations.load();
    int episodes = 0;
    for (int i = 0; i < 20000; ++i) {
      const StepResult r = env->step(Action::discrete(static_cast<int64_t>(policy.below(n))), obs);
      if (r.done()) {
        env->reset(obs);
        ++episodes;
      }
    }
    CHECK(g_allocations.load() - before == 0);
    CHECK(episodes > 0);
  }
}

}  // namespace
}  // namespace rl
