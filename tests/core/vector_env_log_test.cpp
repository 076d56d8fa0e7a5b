// VectorEnv's action log: replaying it in a fresh vector env rebuilds every env mid-episode,
// including state that carries over auto-resets (MinAtar's sticky previous action) and wrapper
// state (frame stacks).
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "core/registry.h"
#include "core/vector_env.h"
#include "core/wrappers.h"

namespace rl {
namespace {

std::unique_ptr<Env> sticky_breakout() {
  auto env = EnvRegistry::global().make("minatar/breakout-v0", {{"sticky_action_prob", 0.5}});
  return apply_wrapper(std::move(env), "frame_stack", {{"k", int64_t{2}}});
}

// Steps `vec` with pseudo-random actions and returns what it saw.
std::vector<uint8_t> run(VectorEnv& vec, Rng& rng, int steps) {
  std::vector<uint8_t> seen;
  std::vector<int64_t> actions(vec.size());
  for (int t = 0; t < steps; ++t) {
    for (auto& a : actions) a = static_cast<int64_t>(rng.below(6));
    vec.step(std::span<const int64_t>(actions));
    seen.insert(seen.end(), vec.observations().begin(), vec.observations().end());
    for (int i = 0; i < vec.size(); ++i) seen.push_back(vec.done(i));
  }
  return seen;
}

TEST_CASE("vector env: replaying the action log rebuilds the envs mid-episode") {
  VectorEnv original(sticky_breakout, 3, 42);
  original.set_action_log(true);
  original.reset();
  Rng actions(7);
  run(original, actions, 500);  // Many episodes end (and auto-reset) on the way.
  CHECK(original.logged_steps() == 500);
  CHECK(original.action_log_record_bytes() == 1);
  CHECK(original.action_log().size() == 500 * 3);

  VectorEnv rebuilt(sticky_breakout, 3, 42);
  rebuilt.set_action_log(true);
  rebuilt.reset();
  int after_step_calls = 0;
  rebuilt.replay(original.action_log(), original.logged_steps(), [&] { ++after_step_calls; });
  CHECK(after_step_calls == 500);
  CHECK(std::vector<uint8_t>(rebuilt.observations().begin(), rebuilt.observations().end()) ==
        std::vector<uint8_t>(original.observations().begin(), original.observations().end()));
  Rng actions_copy = actions;
  CHECK(run(rebuilt, actions_copy, 300) == run(original, actions, 300));
  CHECK(std::vector<uint8_t>(rebuilt.action_log().begin(), rebuilt.action_log().end()) ==
        std::vector<uint8_t>(original.action_log().begin(), original.action_log().end()));
}

TEST_CASE("vector env: the action log is off by default, cleared by reset, checked on replay") {
  VectorEnv vec(sticky_breakout, 2, 1);
  vec.reset();
  Rng rng(1);
  run(vec, rng, 5);
  CHECK(vec.logged_steps() == 0);
  CHECK(vec.action_log().empty());
  vec.set_action_log(true);
  run(vec, rng, 5);
  CHECK(vec.logged_steps() == 5);
  vec.reset();
  CHECK(vec.logged_steps() == 0);
  const std::vector<uint8_t> log(7, 0);
  CHECK_THROWS_WITH_AS(vec.replay(log, 4), doctest::Contains("action log of 7 bytes for 4 steps"),
                       std::invalid_argument);
  const std::vector<uint8_t> bad_action(2, 9);
  CHECK_THROWS_AS(vec.replay(bad_action, 1), std::invalid_argument);
}

TEST_CASE("vector env: continuous actions are logged as floats") {
  auto pendulum = [] { return EnvRegistry::global().make("classic/pendulum-v1"); };
  VectorEnv original(pendulum, 2, 9);
  original.set_action_log(true);
  original.reset();
  Rng rng(2);
  std::vector<float> actions(2);
  for (int t = 0; t < 250; ++t) {
    for (auto& a : actions) a = static_cast<float>(rng.uniform(-2, 2));
    original.step(std::span<const float>(actions));
  }
  CHECK(original.action_log_record_bytes() == sizeof(float));
  VectorEnv rebuilt(pendulum, 2, 9);
  rebuilt.reset();
  rebuilt.replay(original.action_log(), original.logged_steps());
  CHECK(std::vector<uint8_t>(rebuilt.observations().begin(), rebuilt.observations().end()) ==
        std::vector<uint8_t>(original.observations().begin(), original.observations().end()));
}

}  // namespace
}  // namespace rl
