// The classic-control envs behind the Env contract: specs as in Gymnasium, goals reachable by
// simple hand-made policies, rewards wired to the physics, and renders.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/registry.h"

namespace rl {
namespace {

struct Run {
  std::unique_ptr<Env> env;
  std::vector<uint8_t> buffer;
  explicit Run(const std::string& id, const std::map<std::string, ParamValue>& params = {})
      : env(EnvRegistry::global().make(id, params)),
        buffer(env->spec().observation_space.bytes()) {}
  const float* obs() { return as_f32(std::span<const uint8_t>(buffer)); }
};

TEST_CASE("Classic envs: step limits and reward thresholds as in Gymnasium") {
  struct Expected {
    std::string id;
    int64_t max_steps;
    std::optional<double> threshold;
  };
  for (const auto& e : std::vector<Expected>{{"classic/cartpole-v1", 500, 475.0},
                                             {"classic/mountaincar-v0", 200, -110.0},
                                             {"classic/mountaincar_continuous-v0", 999, 90.0},
                                             {"classic/acrobot-v1", 500, -100.0},
                                             {"classic/pendulum-v1", 200, std::nullopt}}) {
    INFO(e.id);
    Run run(e.id);
    CHECK(run.env->spec().max_episode_steps == e.max_steps);
    CHECK(run.env->spec().reward_threshold == e.threshold);
  }
}

TEST_CASE("MountainCar: pushing along the velocity climbs the hill; -1 per step") {
  Run run("classic/mountaincar-v0");
  run.env->reset(3, run.buffer);
  CHECK(run.obs()[0] >= -0.6f);
  CHECK(run.obs()[0] <= -0.4f);
  CHECK(run.obs()[1] == 0.f);
  StepResult r;
  int steps = 0;
  do {
    r = run.env->step(Action::discrete(run.obs()[1] >= 0 ? 2 : 0), run.buffer);
    CHECK(r.reward == -1.f);
    ++steps;
  } while (!r.done());
  CHECK(r.terminated);
  CHECK(run.obs()[0] >= 0.5f);
  CHECK(run.env->episode_return() == -steps);
  CHECK(steps < 200);
}

TEST_CASE("MountainCarContinuous: +100 at the goal minus 0.1 force^2 per step") {
  Run run("classic/mountaincar_continuous-v0");
  run.env->reset(4, run.buffer);
  StepResult r;
  int steps = 0;
  do {
    const float force = run.obs()[1] >= 0 ? 1.f : -1.f;
    r = run.env->step(Action::continuous(std::span<const float>(&force, 1)), run.buffer);
    ++steps;
    if (!r.terminated) CHECK(r.reward == doctest::Approx(-0.1));
  } while (!r.done());
  CHECK(r.terminated);
  CHECK(r.reward == doctest::Approx(100 - 0.1));
  CHECK(run.obs()[0] >= 0.45f);
  CHECK(run.env->episode_return() == doctest::Approx(100 - 0.1 * steps).epsilon(1e-4));
  const float half = 0.5f;
  run.env->reset(4, run.buffer);
  CHECK(run.env->step(Action::continuous(std::span<const float>(&half, 1)), run.buffer).reward ==
        doctest::Approx(-0.025));
}

TEST_CASE("MountainCar: goal_velocity also requires speed at the goal") {
  CHECK_THROWS_AS(EnvRegistry::global().make("classic/mountaincar-v0", {{"goal_velocity", 0.5}}),
                  std::invalid_argument);
  auto play = [](Run& run) {
    run.env->reset(3, run.buffer);
    StepResult r;
    do {
      r = run.env->step(Action::discrete(run.obs()[1] >= 0 ? 2 : 0), run.buffer);
    } while (!r.done());
    return r;
  };
  Run plain("classic/mountaincar-v0");
  Run fast("classic/mountaincar-v0", {{"goal_velocity", 0.07}});
  REQUIRE(play(plain).terminated);
  const bool fast_ended = play(fast).terminated;
  // The plain run ends below full speed; the demanding one has to go on longer.
  REQUIRE(plain.obs()[1] < 0.07f);
  CHECK(fast.env->episode_steps() > plain.env->episode_steps());
  if (fast_ended) CHECK(fast.obs()[1] >= 0.07f);
}

TEST_CASE("Acrobot: observation is cos/sin of both angles and the two velocities") {
  Run run("classic/acrobot-v1");
  run.env->reset(5, run.buffer);
  for (int i = 0; i < 50; ++i) {
    const StepResult r = run.env->step(Action::discrete(i % 3), run.buffer);
    const float* o = run.obs();
    CHECK(o[0] * o[0] + o[1] * o[1] == doctest::Approx(1.f).epsilon(1e-5));
    CHECK(o[2] * o[2] + o[3] * o[3] == doctest::Approx(1.f).epsilon(1e-5));
    // Free-end height from the observation: -cos t1 - cos(t1 + t2).
    const float height = -o[0] - (o[0] * o[2] - o[1] * o[3]);
    CHECK(r.terminated == (height > 1.f));
    CHECK(r.reward == (r.terminated ? 0.f : -1.f));
    if (r.done()) break;
  }
}

TEST_CASE("Pendulum: reward is minus the cost of the state the action was taken in") {
  Run run("classic/pendulum-v1");
  run.env->reset(6, run.buffer);
  for (int i = 0; i < 20; ++i) {
    const float theta = std::atan2(run.obs()[1], run.obs()[0]);
    const float theta_dot = run.obs()[2];
    const float torque = -1.5f + 0.15f * i;
    const StepResult r =
        run.env->step(Action::continuous(std::span<const float>(&torque, 1)), run.buffer);
    const double cost = theta * theta + 0.1 * theta_dot * theta_dot + 0.001 * torque * torque;
    CHECK(r.reward == doctest::Approx(-cost).epsilon(1e-4));
    CHECK(!r.terminated);
  }
  // Out-of-range torques are rejected with a clear error rather than clipped silently.
  const float too_big = 2.5f;
  CHECK_THROWS_AS(
      run.env->step(Action::continuous(std::span<const float>(&too_big, 1)), run.buffer),
      std::invalid_argument);
}

TEST_CASE("Classic envs render a non-blank picture") {
  for (const char* id :
       {"classic/cartpole-v1", "classic/mountaincar-v0", "classic/mountaincar_continuous-v0",
        "classic/acrobot-v1", "classic/pendulum-v1"}) {
    INFO(id);
    Run run(id);
    run.env->reset(1, run.buffer);
    Image image;
    run.env->render(image);
    REQUIRE(image.width > 0);
    int drawn = 0;
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < image.width; ++x) drawn += !(image.at(x, y) == Color{255, 255, 255});
    CHECK(drawn > 200);
    CHECK(drawn < image.width * image.height / 2);
  }
}

}  // namespace
}  // namespace rl
