// train.eval_deterministic: how evaluation acts (greedy or sampled), its per-agent default,
// and that sampled evaluation repeats from its seed without touching the training RNG.
#include <doctest/doctest.h>

#include <span>
#include <string>
#include <vector>

#include "agents/experiment.h"
#include "agents/trainer.h"
#include "core/config.h"

namespace rl {
namespace {

Experiment experiment(const std::string& agent, const std::string& train = "") {
  const std::string env = agent == "sac" ? "classic/pendulum-v1" : "classic/cartpole-v1";
  return build_experiment(ConfigDocument::parse(
      "env: {id: " + env + "}\nagent: {type: " + agent + "}\ntrain: {" + train + "}\n",
      "eval.yaml"));
}

TEST_CASE("eval_deterministic: auto samples PPO and A2C, acts greedily for DQN and SAC") {
  CHECK_FALSE(experiment("ppo").run().train.eval_deterministic);
  CHECK_FALSE(experiment("a2c").run().train.eval_deterministic);
  CHECK(experiment("dqn").run().train.eval_deterministic);
  CHECK(experiment("sac").run().train.eval_deterministic);
  CHECK(experiment("ppo", "eval_deterministic: true").run().train.eval_deterministic);
  CHECK_FALSE(experiment("a2c", "eval_deterministic: false").run().train.eval_deterministic);
  CHECK(experiment("dqn", "eval_deterministic: true").run().train.eval_deterministic);
}

TEST_CASE("eval_deterministic: false is rejected where the agent has no policy to sample") {
  for (const char* agent : {"dqn", "sac"}) {
    CHECK_THROWS_WITH_AS(experiment(agent, "eval_deterministic: false"),
                         doctest::Contains("train.eval_deterministic"), ConfigError);
  }
  CHECK_THROWS_WITH_AS(experiment("ppo", "eval_deterministic: maybe"), doctest::Contains("auto"),
                       ConfigError);
}

// Episode lengths of `episodes` CartPole evaluations of an untrained PPO agent.
std::vector<int64_t> lengths(Experiment& e, uint64_t seed) {
  return evaluate(e, 8, seed, 500).lengths;
}

TEST_CASE("eval_deterministic: sampled evaluation repeats from its seed and differs from greedy") {
  Experiment sampled = experiment("ppo");
  Experiment greedy = experiment("ppo", "eval_deterministic: true");
  // The same untrained network (same seed): greedy repeats; sampling repeats per seed.
  CHECK(lengths(greedy, 5) == lengths(greedy, 5));
  CHECK(lengths(sampled, 5) == lengths(sampled, 5));
  CHECK(lengths(sampled, 5) != lengths(greedy, 5));
}

TEST_CASE("eval_deterministic: sampled evaluation leaves the training RNG alone") {
  Experiment evaluated = experiment("ppo");
  Experiment untouched = experiment("ppo");
  evaluate(evaluated, 4, 9, 200);
  std::vector<uint8_t> observation(evaluated.env_spec.observation_space.bytes(), 0);
  for (int k = 0; k < 20; ++k) {
    int64_t a = -1, b = -1;
    evaluated.agent->act(observation, 1, ActMode::kExplore, {std::span<int64_t>(&a, 1), {}});
    untouched.agent->act(observation, 1, ActMode::kExplore, {std::span<int64_t>(&b, 1), {}});
    CHECK(a == b);
  }
}

}  // namespace
}  // namespace rl
