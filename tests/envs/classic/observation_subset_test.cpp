// The partially observed classic envs: the base env's episodes with only some observation
// elements kept.
#include "envs/classic/observation_subset.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"

namespace rl {
namespace {

// Steps `base` and `subset` with the same seed and actions; every observation of `subset`
// must be `base`'s at `kept`, and rewards and episode ends must agree.
void check_same_episode(const std::string& base_id, const std::string& subset_id,
                        const std::vector<size_t>& kept, const Action& action) {
  auto base = EnvRegistry::global().make(base_id);
  auto subset = EnvRegistry::global().make(subset_id);
  std::vector<uint8_t> full(base->spec().observation_space.bytes());
  std::vector<uint8_t> part(subset->spec().observation_space.bytes());
  base->reset(11, full);
  subset->reset(11, part);
  for (int step = 0;; ++step) {
    INFO("step " << step);
    for (size_t i = 0; i < kept.size(); ++i) {
      REQUIRE(as_f32(std::span<const uint8_t>(part))[i] ==
              as_f32(std::span<const uint8_t>(full))[kept[i]]);
    }
    const StepResult expected = base->step(action, full);
    const StepResult got = subset->step(action, part);
    REQUIRE(got.reward == expected.reward);
    REQUIRE(got.terminated == expected.terminated);
    REQUIRE(got.truncated == expected.truncated);
    if (got.done()) break;
  }
  CHECK(subset->episode_steps() == base->episode_steps());
}

TEST_CASE("cartpole-novel-v1: CartPole's episodes observing cart position and pole angle") {
  auto env = EnvRegistry::global().make("classic/cartpole-novel-v1");
  const EnvSpec& spec = env->spec();
  CHECK(spec.observation_space.shape == std::vector<int64_t>{2});
  CHECK(spec.observation_space.low == std::vector<float>{-4.8f, -0.41887903f});
  CHECK(spec.action_space.n == 2);
  CHECK(spec.max_episode_steps == 500);
  CHECK(spec.reward_threshold == 475.0);
  check_same_episode("classic/cartpole-v1", "classic/cartpole-novel-v1", {0, 2},
                     Action::discrete(1));
}

TEST_CASE("pendulum-novel-v1: Pendulum's episodes observing cos and sin of the angle") {
  auto env =
      EnvRegistry::global().make("classic/pendulum-novel-v1", {{"max_episode_steps", int64_t{50}}});
  CHECK(env->spec().observation_space.shape == std::vector<int64_t>{2});
  CHECK(env->spec().max_episode_steps == 50);
  CHECK(env->spec().action_space.shape == std::vector<int64_t>{1});
  const std::vector<float> torque{0.7f};
  check_same_episode("classic/pendulum-v1", "classic/pendulum-novel-v1", {0, 1},
                     Action::continuous(torque));
}

TEST_CASE("observation_subset_entry rejects elements outside the base observation") {
  const EnvEntry& base = EnvRegistry::global().find("classic/cartpole-v1");
  const EnvEntry entry =
      classic::observation_subset_entry(base, "classic/broken-v0", "test", {0, 4});
  CHECK_THROWS_WITH_AS(entry.factory(Params::resolve(base.params, {}, "test")),
                       "classic/broken-v0: observation element 4 is outside "
                       "classic/cartpole-v1's 4 elements",
                       std::invalid_argument);
}

}  // namespace
}  // namespace rl
