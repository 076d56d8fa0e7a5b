#include "core/rollout_buffer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace rl {
namespace {

// Two envs, four steps, one f32 observation each (its value is 10 * step + env).
struct Example {
  std::vector<float> rewards[4];
  std::vector<float> values[4];
  std::vector<uint8_t> terminated[4];
  std::vector<uint8_t> truncated[4];
  std::vector<float> final_values[4];
};

void fill(RolloutBuffer& buffer, const Example& e) {
  for (int t = 0; t < 4; ++t) {
    std::vector<float> obs = {10.f * t, 10.f * t + 1};
    std::vector<uint8_t> bytes(obs.size() * sizeof(float));
    std::memcpy(bytes.data(), obs.data(), bytes.size());
    std::vector<int64_t> actions = {t % 2, 1 - t % 2};
    std::vector<float> log_probs = {-0.5f, -0.25f};
    RolloutStep step;
    step.observations = bytes;
    step.discrete_actions = actions;
    step.rewards = e.rewards[t];
    step.values = e.values[t];
    step.log_probs = log_probs;
    step.terminated = e.terminated[t];
    step.truncated = e.truncated[t];
    step.final_values = e.final_values[t];
    buffer.add(step);
  }
}

// Env 0 terminates at step 1; env 1 is truncated at step 1 with V(final observation) = 10.
Example hand_example() {
  Example e;
  const float r0[4] = {1, 2, 3, 4}, v0[4] = {0.5f, 1, 1.5f, 2};
  const float r1[4] = {0, 1, 0, 1};
  for (int t = 0; t < 4; ++t) {
    e.rewards[t] = {r0[t], r1[t]};
    e.values[t] = {v0[t], 1.f};
    e.terminated[t] = {static_cast<uint8_t>(t == 1), 0};
    e.truncated[t] = {0, static_cast<uint8_t>(t == 1)};
    e.final_values[t] = t == 1 ? std::vector<float>{0.f, 10.f} : std::vector<float>{};
  }
  return e;
}

RolloutBuffer make_buffer(double gamma, double lambda) {
  return RolloutBuffer(Space::box({1}, -100.f, 100.f, DType::kF32), Space::discrete(2),
                       {.num_steps = 4, .num_envs = 2, .gamma = gamma, .gae_lambda = lambda});
}

TEST_CASE("rollout: GAE matches a hand-computed example with termination and truncation") {
  RolloutBuffer buffer = make_buffer(0.9, 0.8);
  fill(buffer, hand_example());
  REQUIRE(buffer.full());
  const std::vector<float> last_values = {3.f, 1.f};
  buffer.compute_advantages(last_values);
  // gamma * lambda = 0.72. Rows are step-major: row = 2 * t + env.
  // Env 0: delta3 = 4 + 0.9*3 - 2 = 4.7; delta2 = 3 + 0.9*2 - 1.5 = 3.3 -> A2 = 3.3 + 0.72*4.7;
  // step 1 terminated: A1 = 2 - 1 = 1; A0 = (1 + 0.9*1 - 0.5) + 0.72*1 = 2.12.
  const double env0[4] = {2.12, 1.0, 6.684, 4.7};
  // Env 1: the truncated reward becomes 1 + 0.9*10 = 10. A3 = 1 + 0.9 - 1 = 0.9;
  // A2 = -0.1 + 0.72*0.9 = 0.548; A1 = 10 - 1 = 9 (no bootstrap past the end); A0 = -0.1 + 0.72*9.
  const double env1[4] = {6.38, 9.0, 0.548, 0.9};
  for (int t = 0; t < 4; ++t) {
    CAPTURE(t);
    CHECK(buffer.advantages()[2 * t] == doctest::Approx(env0[t]).epsilon(1e-5));
    CHECK(buffer.advantages()[2 * t + 1] == doctest::Approx(env1[t]).epsilon(1e-5));
    CHECK(buffer.returns()[2 * t] == doctest::Approx(env0[t] + buffer.values()[2 * t]));
    CHECK(buffer.returns()[2 * t + 1] == doctest::Approx(env1[t] + 1.0));
  }
  CHECK(buffer.rewards()[3] == doctest::Approx(10.0));  // Step 1, env 1.
  CHECK(buffer.rewards()[2] == doctest::Approx(2.0));   // Terminated: unchanged.
  CHECK(buffer.episode_ends()[2] == 1);
  CHECK(buffer.episode_ends()[3] == 1);
  CHECK(buffer.episode_ends()[0] == 0);
}

TEST_CASE("rollout: stores rows step-major with actions and log-probs") {
  RolloutBuffer buffer = make_buffer(0.9, 0.8);
  fill(buffer, hand_example());
  const float* obs = reinterpret_cast<const float*>(buffer.observations().data());
  for (int t = 0; t < 4; ++t) {
    CHECK(obs[2 * t] == 10.f * t);
    CHECK(obs[2 * t + 1] == 10.f * t + 1);
    CHECK(buffer.discrete_actions()[2 * t] == t % 2);
    CHECK(buffer.discrete_actions()[2 * t + 1] == 1 - t % 2);
  }
  CHECK(buffer.log_probs()[5] == -0.25f);
}

TEST_CASE("rollout: lambda 1 and gamma 1 give undiscounted returns to the episode end") {
  RolloutBuffer buffer = make_buffer(1.0, 1.0);
  fill(buffer, hand_example());
  buffer.compute_advantages(std::vector<float>{3.f, 1.f});
  // Env 0: steps 0-1 form one episode (1 + 2), steps 2-3 bootstrap from 3 (3 + 4 + 3).
  CHECK(buffer.returns()[0] == doctest::Approx(3.0));
  CHECK(buffer.returns()[2] == doctest::Approx(2.0));
  CHECK(buffer.returns()[4] == doctest::Approx(10.0));
  CHECK(buffer.returns()[6] == doctest::Approx(7.0));
  // Env 1: the truncated episode bootstraps from its final value: 0 + 1 + 10.
  CHECK(buffer.returns()[1] == doctest::Approx(11.0));
}

TEST_CASE("rollout: terminated wins over truncated (no bootstrap)") {
  Example e = hand_example();
  e.truncated[1][0] = 1;  // Env 0 reports both at step 1.
  e.final_values[1][0] = 50.f;
  RolloutBuffer buffer = make_buffer(0.9, 0.8);
  fill(buffer, e);
  CHECK(buffer.rewards()[2] == doctest::Approx(2.0));
}

TEST_CASE("rollout: clear starts a new rollout") {
  RolloutBuffer buffer = make_buffer(0.9, 0.8);
  fill(buffer, hand_example());
  CHECK_THROWS_AS(fill(buffer, hand_example()), std::logic_error);
  buffer.clear();
  CHECK(buffer.steps() == 0);
  fill(buffer, hand_example());
  CHECK(buffer.full());
}

TEST_CASE("rollout: bad input is rejected with a message and nothing stored") {
  RolloutBuffer buffer = make_buffer(0.9, 0.8);
  std::vector<uint8_t> obs(2 * sizeof(float), 0);
  std::vector<int64_t> actions = {0, 1};
  std::vector<float> two = {0.f, 0.f};
  std::vector<uint8_t> no = {0, 0}, yes = {0, 1};
  RolloutStep step{obs, actions, {}, two, two, two, no, no, {}, {}};
  SUBCASE("truncated without a final value") {
    step.truncated = yes;
    CHECK_THROWS_WITH_AS(buffer.add(step), doctest::Contains("final_values"),
                         std::invalid_argument);
  }
  SUBCASE("wrong observation size") {
    std::vector<uint8_t> short_obs(3);
    step.observations = short_obs;
    CHECK_THROWS_WITH_AS(buffer.add(step), doctest::Contains("observations"),
                         std::invalid_argument);
  }
  SUBCASE("action outside the space") {
    std::vector<int64_t> bad = {0, 2};
    step.discrete_actions = bad;
    CHECK_THROWS_WITH_AS(buffer.add(step), doctest::Contains("env 1"), std::invalid_argument);
  }
  SUBCASE("non-finite reward") {
    std::vector<float> nan = {0.f, std::nanf("")};
    step.rewards = nan;
    CHECK_THROWS_WITH_AS(buffer.add(step), doctest::Contains("reward"), std::invalid_argument);
  }
  CHECK(buffer.steps() == 0);
  CHECK_THROWS_AS(buffer.compute_advantages(two), std::logic_error);
}

TEST_CASE("rollout: options are validated") {
  const Space obs = Space::box({1}, 0.f, 1.f, DType::kF32);
  CHECK_THROWS_AS(RolloutBuffer(obs, Space::discrete(2), {.num_steps = 0}), std::invalid_argument);
  CHECK_THROWS_AS(RolloutBuffer(obs, Space::discrete(2), {.gae_lambda = 1.5}),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      RolloutBuffer(obs, Space::box({1}, -1.f, 1.f, DType::kF32), {.action_masks = true}),
      std::invalid_argument);
  CHECK_THROWS_AS(RolloutBuffer(Space::discrete(3), Space::discrete(2), {}), std::invalid_argument);
}

TEST_CASE("rollout: continuous actions and action masks are stored per row") {
  RolloutBuffer box(Space::box({1}, 0.f, 1.f, DType::kF32), Space::box({2}, -1.f, 1.f, DType::kF32),
                    {.num_steps = 1, .num_envs = 1});
  std::vector<uint8_t> obs(sizeof(float), 0);
  std::vector<float> action = {0.25f, -0.5f}, one = {1.f};
  std::vector<uint8_t> no = {0};
  box.add({obs, {}, action, one, one, one, no, no, {}, {}});
  CHECK(box.continuous_actions()[1] == -0.5f);

  RolloutBuffer masked(Space::box({1}, 0.f, 1.f, DType::kF32), Space::discrete(3),
                       {.num_steps = 1, .num_envs = 1, .action_masks = true});
  std::vector<int64_t> a = {2};
  std::vector<uint8_t> mask = {1, 0, 1};
  masked.add({obs, a, {}, one, one, one, no, no, {}, mask});
  CHECK(masked.action_masks()[1] == 0);
  CHECK(masked.action_masks()[2] == 1);
}

}  // namespace
}  // namespace rl
