// Success reporting: StepResult::success, EnvSpec::reports_success and
// Env::last_episode_succeeded() through the base class, wrappers and the vector env.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "core/env.h"
#include "core/registry.h"
#include "core/vector_env.h"
#include "core/wrappers.h"

namespace rl {
namespace {

// Action 1 ends the episode successfully, action 0 ends it as a failure, action 2 continues
// (and claims success, which the base class must ignore on a step that does not end).
class GoalEnv final : public Env {
 public:
  GoalEnv() : Env(make_spec()) {}

 protected:
  void do_reset(ObsBuffer obs) override { as_f32(obs)[0] = 0.f; }
  StepResult do_step(const Action& action, ObsBuffer obs) override {
    as_f32(obs)[0] = 1.f;
    StepResult r;
    r.terminated = action.index != 2;
    r.success = action.index != 0;
    r.reward = action.index == 1 ? 1.f : 0.f;
    return r;
  }
  void do_render(Image& out) const override { out.resize(1, 1, {0, 0, 0}); }

 private:
  static EnvSpec make_spec() {
    EnvSpec spec;
    spec.id = "test/goal-v0";
    spec.observation_space = Space::box({1}, 0.f, 1.f, DType::kF32);
    spec.action_space = Space::discrete(3);
    spec.max_episode_steps = 3;
    spec.reports_success = true;
    return spec;
  }
};

TEST_CASE("env success: the base class keeps the last finished episode's outcome") {
  GoalEnv env;
  std::vector<uint8_t> obs(env.spec().observation_space.bytes());
  CHECK(env.spec().reports_success);
  CHECK_FALSE(env.last_episode_succeeded());
  env.reset(1, obs);
  StepResult r = env.step(Action::discrete(2), obs);
  CHECK_FALSE(r.done());
  CHECK_FALSE(r.success);  // Cleared: the episode did not end.
  r = env.step(Action::discrete(1), obs);
  CHECK(r.terminated);
  CHECK(r.success);
  CHECK(env.last_episode_succeeded());
  env.reset(obs);  // Kept across reset ...
  CHECK(env.last_episode_succeeded());
  env.step(Action::discrete(2), obs);
  CHECK(env.last_episode_succeeded());  // ... and while the next episode runs.
  r = env.step(Action::discrete(0), obs);
  CHECK_FALSE(r.success);
  CHECK_FALSE(env.last_episode_succeeded());
  // Truncation by the step limit after steps that claimed success is not a success.
  env.reset(obs);
  for (int i = 0; i < 3; ++i) r = env.step(Action::discrete(2), obs);
  CHECK(r.truncated);
  CHECK_FALSE(r.success);
  CHECK_FALSE(env.last_episode_succeeded());
}

TEST_CASE("env success: wrappers pass it on, the vector env keeps it over auto-reset") {
  auto wrapped =
      std::make_unique<FrameStack>(std::make_unique<TimeLimit>(std::make_unique<GoalEnv>(), 5), 2);
  CHECK(wrapped->spec().reports_success);
  std::vector<uint8_t> obs(wrapped->spec().observation_space.bytes());
  wrapped->reset(3, obs);
  CHECK(wrapped->step(Action::discrete(1), obs).success);
  CHECK(wrapped->last_episode_succeeded());

  VectorEnv vec([] { return std::make_unique<GoalEnv>(); }, 3, 7);
  vec.reset();
  const std::vector<int64_t> actions = {1, 0, 2};
  vec.step(std::span<const int64_t>(actions));
  CHECK(vec.done(0));
  CHECK(vec.done(1));
  CHECK_FALSE(vec.done(2));
  CHECK(vec.env(0).last_episode_succeeded());
  CHECK_FALSE(vec.env(1).last_episode_succeeded());
  CHECK_FALSE(vec.env(2).last_episode_succeeded());
  CHECK(vec.env(0).episode_steps() == 0);  // Auto-reset happened.
}

TEST_CASE("env success: grid tasks report reaching the goal, toy text the lake's goal") {
  const EnvRegistry& registry = EnvRegistry::global();
  auto lake = registry.make("grid/frozenlake-4x4-v0", {{"is_slippery", false}});
  CHECK(lake->spec().reports_success);
  std::vector<uint8_t> obs(lake->spec().observation_space.bytes());
  // Map SFFF / FHFH / FFFH / HFFG; actions left 0, down 1, right 2, up 3.
  lake->reset(1, obs);
  StepResult r;
  for (int64_t a : {1, 1, 2, 2, 1}) r = lake->step(Action::discrete(a), obs);
  CHECK_FALSE(r.done());
  r = lake->step(Action::discrete(2), obs);
  CHECK(r.terminated);
  CHECK(r.success);
  lake->reset(obs);
  r = lake->step(Action::discrete(2), obs);
  r = lake->step(Action::discrete(1), obs);  // Into the hole at (1, 1).
  CHECK(r.terminated);
  CHECK_FALSE(r.success);
  CHECK_FALSE(lake->last_episode_succeeded());

  // Empty-5x5: the agent starts at (1, 1) facing right; the goal is at (3, 3).
  auto empty = registry.make("grid/empty-5x5-v0");
  CHECK(empty->spec().reports_success);
  obs.assign(empty->spec().observation_space.bytes(), 0);
  empty->reset(1, obs);
  for (int64_t a : {2, 2, 1, 2}) r = empty->step(Action::discrete(a), obs);
  CHECK_FALSE(r.done());
  r = empty->step(Action::discrete(2), obs);
  CHECK(r.terminated);
  CHECK(r.success);
  CHECK(r.reward > 0.f);

  CHECK_FALSE(registry.make("classic/cartpole-v1")->spec().reports_success);
}

}  // namespace
}  // namespace rl
