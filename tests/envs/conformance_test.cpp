// Generic checks run over every registered, self-contained env with default parameters:
// spaces, action validation, reward range, returns, truncation, reset, render, determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/registry.h"

namespace rl {
namespace {

std::vector<std::string> self_contained_ids() {
  std::vector<std::string> ids;
  for (const auto& id : EnvRegistry::global().ids())
    if (EnvRegistry::global().find(id).self_contained) ids.push_back(id);
  return ids;
}

void check_observation(const Space& space, const std::vector<uint8_t>& obs, const std::string& id) {
  INFO("env ", id);
  const int64_t n = space.numel();
  for (int64_t i = 0; i < n; ++i) {
    const float v = space.dtype == DType::kU8 ? static_cast<float>(obs[i])
                                              : as_f32(std::span<const uint8_t>(obs))[i];
    REQUIRE(std::isfinite(v));
    REQUIRE(v >= space.low[i]);
    REQUIRE(v <= space.high[i]);
  }
}

struct Trajectory {
  std::vector<uint8_t> observations;
  std::vector<float> rewards;
  std::vector<int> ends;  // 0 running, 1 terminated, 2 truncated
};

// Plays `steps` steps with actions drawn from an RNG seeded like the env, resetting on done.
Trajectory play(const std::string& id, uint64_t seed, int steps) {
  auto env = EnvRegistry::global().make(id);
  const Space& obs_space = env->spec().observation_space;
  std::vector<uint8_t> obs(obs_space.bytes());
  Rng policy(seed ^ 0xabcdefULL);
  std::vector<float> values;
  Trajectory t;
  env->reset(seed, obs);
  t.observations.insert(t.observations.end(), obs.begin(), obs.end());
  for (int i = 0; i < steps; ++i) {
    const int64_t index = sample_space(env->spec().action_space, policy, values);
    const StepResult r = env->step(Action{index, values}, obs);
    t.observations.insert(t.observations.end(), obs.begin(), obs.end());
    t.rewards.push_back(r.reward);
    t.ends.push_back(r.terminated ? 1 : r.truncated ? 2 : 0);
    if (r.done()) env->reset(obs);
  }
  return t;
}

TEST_CASE("every registered env satisfies the env contract") {
  const auto ids = self_contained_ids();
  REQUIRE(!ids.empty());
  for (const auto& id : ids) {
    INFO("env ", id);
    auto env = EnvRegistry::global().make(id);
    const EnvSpec& spec = env->spec();
    CHECK(spec.id == id);
    CHECK(!spec.description.empty());
    CHECK(spec.description == EnvRegistry::global().find(id).description);
    REQUIRE(spec.observation_space.kind == Space::Kind::kBox);
    std::vector<uint8_t> obs(spec.observation_space.bytes());

    CHECK_THROWS_AS(env->step(Action::discrete(0), obs), std::logic_error);
    env->reset(1234, obs);
    check_observation(spec.observation_space, obs, id);

    // Invalid actions are rejected with a clear error and leave the episode usable.
    if (spec.action_space.is_discrete()) {
      CHECK_THROWS_AS(env->step(Action::discrete(spec.action_space.n), obs), std::invalid_argument);
      CHECK_THROWS_AS(env->step(Action::discrete(-1), obs), std::invalid_argument);
    } else {
      std::vector<float> wrong(spec.action_space.numel() + 1, 0.f);
      CHECK_THROWS_AS(env->step(Action::continuous(wrong), obs), std::invalid_argument);
      std::vector<float> nan(spec.action_space.numel(), std::nanf(""));
      CHECK_THROWS_AS(env->step(Action::continuous(nan), obs), std::invalid_argument);
    }
    std::vector<uint8_t> short_buffer(obs.size() > 0 ? obs.size() - 1 : 0);
    CHECK_THROWS_AS(env->reset(short_buffer), std::invalid_argument);

    // Episodes: rewards in range, return equals the sum, truncation at the step limit.
    const int64_t limit = 50;
    env->set_max_episode_steps(limit);
    Rng policy(7);
    std::vector<float> values;
    for (int episode = 0; episode < 3; ++episode) {
      env->reset(obs);
      double sum = 0.0;
      StepResult r;
      int64_t steps = 0;
      do {
        const int64_t index = sample_space(spec.action_space, policy, values);
        r = env->step(Action{index, values}, obs);
        ++steps;
        sum += r.reward;
        check_observation(spec.observation_space, obs, id);
        REQUIRE(r.reward >= spec.reward_min);
        REQUIRE(r.reward <= spec.reward_max);
        REQUIRE(!(r.terminated && r.truncated));
      } while (!r.done());
      CHECK(steps <= limit);
      if (r.truncated) CHECK(steps == limit);
      CHECK(env->episode_steps() == steps);
      CHECK(env->episode_return() == doctest::Approx(sum));
      CHECK_THROWS_AS(env->step(Action{0, values}, obs), std::logic_error);
    }

    Image image;
    env->render(image);
    CHECK(image.width > 0);
    CHECK(image.height > 0);
    CHECK(image.pixels.size() == static_cast<size_t>(image.width) * image.height * 3);
  }
}

TEST_CASE("every registered env is deterministic under a seed") {
  for (const auto& id : self_contained_ids()) {
    INFO("env ", id);
    const Trajectory a = play(id, 42, 300);
    const Trajectory b = play(id, 42, 300);
    CHECK(a.observations == b.observations);
    CHECK(a.rewards == b.rewards);
    CHECK(a.ends == b.ends);
    const Trajectory c = play(id, 43, 300);
    CHECK((a.observations != c.observations || a.rewards != c.rewards));
  }
}

}  // namespace
}  // namespace rl
