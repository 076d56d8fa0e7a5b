#include "core/registry.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>

namespace rl {
namespace {

EnvSpec counter_spec(int64_t limit) {
  EnvSpec spec;
  spec.id = "test/counter-v0";
  spec.description = "counts steps";
  spec.observation_space = Space::box({1}, 0.f, 1e6f, DType::kF32);
  spec.action_space = Space::discrete(2);
  spec.reward_min = 0.f;
  spec.reward_max = 1.f;
  spec.max_episode_steps = limit;
  return spec;
}

class CounterEnv final : public Env {
 public:
  explicit CounterEnv(const Params& p) : Env(counter_spec(p.get_int("limit"))) {}

 protected:
  void do_reset(ObsBuffer obs) override { as_f32(obs)[0] = count_ = 0; }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    as_f32(obs)[0] = static_cast<float>(++count_);
    return {static_cast<float>(a.index), a.index == 1 && count_ >= 3, false};
  }
  void do_render(Image& out) const override { out.resize(2, 2); }

 private:
  int count_ = 0;
};

EnvEntry counter_entry(const std::string& id) {
  return {id,
          "counts steps",
          {{"limit", int64_t{5}, "step limit", 1.0, 100.0, {}}},
          [](const Params& p) { return std::make_unique<CounterEnv>(p); }};
}

TEST_CASE("registry: ids are a plain name or family/name-vN") {
  // The rule: [a-z0-9_]+ or [a-z0-9_]+(/[a-z0-9_-]+)*-v[0-9]+.
  for (const char* id :
       {"cartpole", "a_1", "cartpole-v1", "classic/cartpole-v1", "minatar/breakout-v12",
        "grid/memory-s7-v0", "a/b/c-d-v3", "a/--v1", "a/b-v1-v2"}) {
    CAPTURE(id);
    EnvRegistry registry;
    CHECK_NOTHROW(registry.add(counter_entry(id)));
  }
  for (const char* id :
       {"", "Test/Counter", "a-b", "my-env-v1", "a/-v1", "a/b-v", "a/b-v1x", "a//b-v1", "/a-v1",
        "a/b-v1/", "a/B-v1", "a.b", "cartpole-v1-v2", "a/b-V1", "a/b v1"}) {
    CAPTURE(id);
    EnvRegistry registry;
    try {
      registry.add(counter_entry(id));
      FAIL("expected an error");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()) ==
            "env id '" + std::string(id) + "' is malformed: expected family/name-vN (lowercase)");
    }
  }
}

TEST_CASE("registry: duplicates, malformed ids, unknown ids and parameters") {
  EnvRegistry registry;
  registry.add(counter_entry("test/counter-v0"));
  CHECK_THROWS_AS(registry.add(counter_entry("test/counter-v0")), std::invalid_argument);
  CHECK_THROWS_AS(registry.add(counter_entry("Test/Counter")), std::invalid_argument);
  try {
    registry.make("test/countr-v0");
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("test/counter-v0") != std::string::npos);
  }
  try {
    registry.make("test/counter-v0", {{"limt", int64_t{3}}});
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("limit") != std::string::npos);
  }
  CHECK_THROWS_AS(registry.make("test/counter-v0", {{"limit", std::string("x")}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.make("test/counter-v0", {{"limit", int64_t{0}}}), std::invalid_argument);
}

TEST_CASE("env base class: truncation, termination, returns and misuse") {
  EnvRegistry registry;
  registry.add(counter_entry("test/counter-v0"));
  auto env = registry.make("test/counter-v0", {{"limit", int64_t{4}}});
  std::vector<uint8_t> obs(4);
  CHECK_THROWS_AS(env->step(Action::discrete(0), obs), std::logic_error);
  env->reset(1, obs);
  StepResult r;
  for (int i = 0; i < 3; ++i) r = env->step(Action::discrete(0), obs);
  CHECK(!r.done());
  r = env->step(Action::discrete(0), obs);
  CHECK(r.truncated);
  CHECK(!r.terminated);
  CHECK_THROWS_AS(env->step(Action::discrete(0), obs), std::logic_error);
  env->reset(obs);
  for (int i = 0; i < 2; ++i) env->step(Action::discrete(1), obs);
  r = env->step(Action::discrete(1), obs);
  CHECK(r.terminated);
  CHECK(!r.truncated);
  CHECK(env->episode_return() == doctest::Approx(3.0));
  CHECK(env->episode_steps() == 3);
  env->reset(obs);
  CHECK_THROWS_AS(env->step(Action::discrete(2), obs), std::invalid_argument);
}

TEST_CASE("registry: an unknown id suggests the nearest ids, not all of them") {
  EnvRegistry registry;
  for (const char* id : {"classic/cartpole-v1", "classic/acrobot-v1", "classic/pendulum-v1",
                         "classic/mountaincar-v0", "grid/empty-5x5-v0", "grid/empty-8x8-v0",
                         "grid/doorkey-5x5-v0", "minatar/breakout-v0", "minatar/breakout-v1"})
    registry.add(counter_entry(id));
  CHECK(registry.nearest_ids("classic/cartpool-v1").front() == "classic/cartpole-v1");
  CHECK(registry.nearest_ids("classic/cartpole-v0").front() == "classic/cartpole-v1");
  CHECK(registry.nearest_ids("CartPole").front() == "classic/cartpole-v1");
  CHECK(registry.nearest_ids("breakout", 2) ==
        std::vector<std::string>{"minatar/breakout-v0", "minatar/breakout-v1"});
  CHECK(registry.nearest_ids("grid/empty-6x6-v0", 2) ==
        std::vector<std::string>{"grid/empty-5x5-v0", "grid/empty-8x8-v0"});
  CHECK(registry.nearest_ids("x").size() == 5);
  try {
    registry.make("classic/cartpool-v1");
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK(message.find("unknown env id 'classic/cartpool-v1'; nearest: classic/cartpole-v1, ") ==
          0);
    CHECK(message.find("`rltrain --list` shows all 9") != std::string::npos);
    const size_t from = message.find("nearest: "), to = message.find(';', from);
    CHECK(std::count(message.begin() + from, message.begin() + to, ',') == 4);  // 5 of 9 ids
  }
  CHECK(std::string(EnvRegistry().unknown_id_message("a")).find("no env is registered") !=
        std::string::npos);
}

}  // namespace
}  // namespace rl
