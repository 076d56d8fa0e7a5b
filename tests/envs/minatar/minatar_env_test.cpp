// The MinAtar env wrapper: ids and action sets, parameters, sticky actions, rendering.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "core/registry.h"
#include "envs/minatar/asterix.h"
#include "envs/minatar/breakout.h"
#include "envs/minatar/freeway.h"
#include "envs/minatar/seaquest.h"
#include "envs/minatar/space_invaders.h"

namespace rl::minatar {
namespace {

struct Expected {
  std::string game;
  int channels;
  std::vector<std::string> minimal_actions;
};

const std::vector<Expected> kGames = {
    {"asterix", 4, {"noop", "left", "up", "right", "down"}},
    {"breakout", 4, {"noop", "left", "right"}},
    {"freeway", 7, {"noop", "up", "down"}},
    {"seaquest", 10, {"noop", "left", "up", "right", "down", "fire"}},
    {"space_invaders", 6, {"noop", "left", "right", "fire"}},
};

TEST_CASE("MinAtar: ten ids, u8 C x 10 x 10 observations, minimal (v1) and full (v0) actions") {
  for (const auto& g : kGames) {
    INFO(g.game);
    auto v1 = EnvRegistry::global().make("minatar/" + g.game + "-v1");
    auto v0 = EnvRegistry::global().make("minatar/" + g.game + "-v0");
    for (const Env* env : {v1.get(), v0.get()}) {
      const Space& obs = env->spec().observation_space;
      CHECK(obs.dtype == DType::kU8);
      CHECK(obs.shape == std::vector<int64_t>{g.channels, 10, 10});
      CHECK(obs.low[0] == 0.f);
      CHECK(obs.high[0] == 1.f);
      CHECK(env->spec().max_episode_steps == 100000);
    }
    CHECK(v1->spec().action_space.n == static_cast<int64_t>(g.minimal_actions.size()));
    CHECK(v1->spec().action_names == g.minimal_actions);
    CHECK(v0->spec().action_space.n == 6);
    CHECK(v0->spec().action_names ==
          std::vector<std::string>{"noop", "left", "up", "right", "down", "fire"});
  }
}

TEST_CASE("MinAtar: parameters are validated") {
  auto& registry = EnvRegistry::global();
  CHECK_THROWS_AS(registry.make("minatar/breakout-v1", {{"sticky_action_prob", 1.5}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.make("minatar/breakout-v1", {{"difficulty_ramping", false}}),
                  std::invalid_argument);  // Breakout has no ramp.
  CHECK_NOTHROW(registry.make("minatar/seaquest-v1", {{"difficulty_ramping", false}}));
  auto env = registry.make("minatar/asterix-v0", {{"max_episode_steps", int64_t{7}}});
  CHECK(env->spec().max_episode_steps == 7);
}

// Paddle column of a Breakout observation.
int paddle(const std::vector<uint8_t>& obs) {
  for (int x = 0; x < 10; ++x)
    if (obs[0 * kPlane + 9 * kSize + x]) return x;
  return -1;
}

TEST_CASE("MinAtar: v1 actions map onto the reference's full action set") {
  auto env = EnvRegistry::global().make("minatar/breakout-v1", {{"sticky_action_prob", 0.0}});
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  CHECK(paddle(obs) == 4);
  env->step(Action::discrete(2), obs);  // v1 action 2 is "right".
  CHECK(paddle(obs) == 5);
  env->step(Action::discrete(1), obs);  // "left".
  CHECK(paddle(obs) == 4);
}

TEST_CASE("MinAtar: with sticky probability 1 the first (no-op) action repeats forever") {
  auto env = EnvRegistry::global().make("minatar/breakout-v0", {{"sticky_action_prob", 1.0}});
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  for (int i = 0; i < 5; ++i) {
    env->step(Action::discrete(kRight), obs);
    CHECK(paddle(obs) == 4);
  }
}

// Sticky actions repeat the previously executed action. With commands alternating left and
// right, the executed move differs from the command with stationary probability p / (1 + p),
// and a sticky step is never a no-op (the player always moves).
TEST_CASE("MinAtar: sticky actions repeat the previous action with the configured probability") {
  const double p = 0.1;
  auto env = EnvRegistry::global().make("minatar/asterix-v0", {{"sticky_action_prob", p}});
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  auto player_x = [&] {
    for (int i = 0; i < kPlane; ++i)
      if (obs[i]) return i % kSize;
    return -1;
  };
  env->reset(17, obs);
  int counted = 0, differed = 0, stood_still = 0;
  for (int t = 0; counted < 40000; ++t) {
    const int command = t % 2 == 0 ? kLeft : kRight;
    const int before = player_x();
    const StepResult r = env->step(Action::discrete(command), obs);
    const int after = player_x();
    if (!r.done() && before > 0 && before < 9) {
      ++counted;
      const int executed = after < before ? kLeft : after > before ? kRight : kNoop;
      stood_still += executed == kNoop;
      differed += executed != command;
    }
    if (r.done()) env->reset(obs);
  }
  CHECK(stood_still == 0);
  CHECK(differed / static_cast<double>(counted) == doctest::Approx(p / (1 + p)).epsilon(0.12));
}

TEST_CASE("MinAtar: render draws one colour per channel on a 10 x 10 grid") {
  auto env = EnvRegistry::global().make("minatar/breakout-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(2, obs);
  Image image;
  env->render(image);
  REQUIRE(image.width == 200);
  REQUIRE(image.height == 200);
  auto centre = [&](int y, int x) { return image.at(x * 20 + 10, y * 20 + 10); };
  CHECK(centre(9, 4) == Breakout::kChannelColors[0]);  // Paddle.
  CHECK(centre(2, 5) == Breakout::kChannelColors[3]);  // Brick.
  CHECK(centre(6, 5) == Color{0, 0, 0});               // Empty.
  // The ball starts inside the brick rows; where channels overlap the highest one shows, as
  // in the reference's display. One step later it is on row 4, alone.
  env->step(Action::discrete(0), obs);
  env->render(image);
  const int ball_x = obs[1 * kPlane + 4 * kSize + 1] ? 1 : 8;
  CHECK(obs[1 * kPlane + 4 * kSize + ball_x] == 1);
  CHECK(centre(4, ball_x) == Breakout::kChannelColors[1]);
}

}  // namespace
}  // namespace rl::minatar
