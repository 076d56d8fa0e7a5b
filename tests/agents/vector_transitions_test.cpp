// VectorTransitions: the transitions of a vector env step as the trainer hands them to agents.
#include <algorithm>
#include <cstring>
#include <vector>

#include "agents/trainer.h"
#include "core/registry.h"
#include "core/vector_env.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

std::vector<float> floats(std::span<const uint8_t> bytes, int row, size_t row_bytes) {
  std::vector<float> values(row_bytes / sizeof(float));
  std::memcpy(values.data(), bytes.data() + row * row_bytes, row_bytes);
  return values;
}

TEST_CASE("vector transitions: s is the copy before the step, s' and next masks the env's") {
  // test/masked-v0: the observation is the legal-action mask (as floats); episodes are cut
  // after 8 steps.
  const int n = 3;
  VectorEnv env([] { return EnvRegistry::global().make("test/masked-v0"); }, n, 5);
  env.reset();
  VectorTransitions transitions(env);
  const size_t bytes = env.observation_bytes();
  std::vector<int64_t> actions(n);
  int ended = 0, ended_restricted = 0;
  for (int t = 0; t < 20; ++t) {
    const std::vector<uint8_t> before(env.observations().begin(), env.observations().end());
    const auto s = transitions.begin_step(env);
    REQUIRE(std::equal(s.begin(), s.end(), before.begin(), before.end()));
    for (int i = 0; i < n; ++i) {
      const std::vector<float> legal = floats(before, i, bytes);
      actions[i] = std::find(legal.begin(), legal.end(), 1.f) - legal.begin();
    }
    env.step(std::span<const int64_t>(actions));
    CHECK(transitions.end_step(env, actions, {}, false).next_legal_actions.empty());
    const TransitionBatch batch = transitions.end_step(env, actions, {}, true);
    REQUIRE(batch.batch == n);
    REQUIRE(std::equal(batch.observations.begin(), batch.observations.end(), before.begin(),
                       before.end()));
    REQUIRE(batch.discrete_actions.data() == actions.data());
    REQUIRE(batch.next_legal_actions.size() == static_cast<size_t>(n * 4));
    for (int i = 0; i < n; ++i) {
      CAPTURE(t);
      CAPTURE(i);
      const std::vector<float> next = floats(batch.next_observations, i, bytes);
      REQUIRE(next == floats(env.next_observation(i), 0, bytes));
      std::vector<float> mask(4);
      std::copy_n(batch.next_legal_actions.begin() + i * 4, 4, mask.begin());
      if (env.done(i)) {
        // s' is the final observation; its mask is gone with the auto-reset: all legal.
        REQUIRE(next == floats(env.final_observations(), i, bytes));
        CHECK(mask == std::vector<float>(4, 1.f));
        ++ended;
        ended_restricted += std::count(next.begin(), next.end(), 0.f) > 0;
      } else {
        CHECK(mask == next);
      }
    }
  }
  CHECK(ended == 2 * n);
  CHECK(ended_restricted > 0);  // Some final observation had a restricting mask.
}

}  // namespace
}  // namespace rl
