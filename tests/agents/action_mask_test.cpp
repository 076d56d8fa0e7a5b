#include <cstring>
#include <stdexcept>
#include <vector>

#include "actor_critic_util.h"
#include "agents/ppo/ppo_agent.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::ac_config;
using test::experiment_from;

// test/masked-v0 throws on an illegal action, so a finished run shows every action, in
// training and in evaluation, respected the masks. The best return is 8 steps of the lowest
// legal index, 8 * (1 * 8 + 0.75 * 4 + 0.5 * 2 + 0.25 * 1) / 15 = 6.53 on average (the lowest
// legal index is 0, 1, 2, 3 in 8, 4, 2, 1 of the 15 non-empty masks); a uniformly random legal
// action scores about 5.
TrainSummary run(Experiment& e, const std::string& name) {
  test::TempDir dir(name);
  TrainOptions options;
  options.run_dir = dir.str();
  return train(e, options);
}

TrainSummary run(const std::string& agent_yaml, int64_t steps, const std::string& name) {
  Experiment e = experiment_from(ac_config("test/masked-v0", agent_yaml, steps, 4, 32));
  return run(e, name);
}

TEST_CASE("action masks: PPO never takes an illegal action and learns the best legal one") {
  Experiment e = experiment_from(ac_config("test/masked-v0", test::kPpoChain, 10000, 4, 32));
  const TrainSummary summary = run(e, "mask_ppo");
  CHECK(summary.final_eval_mean > 6.2);
  // The greedy choice for every non-empty mask is its lowest legal action.
  for (int bits = 1; bits < 16; ++bits) {
    CAPTURE(bits);
    std::vector<uint8_t> mask(4);
    std::vector<float> obs(4);
    for (int a = 0; a < 4; ++a) obs[a] = mask[a] = (bits >> a) & 1;
    std::vector<uint8_t> bytes(sizeof(float) * 4);
    std::memcpy(bytes.data(), obs.data(), bytes.size());
    std::vector<int64_t> action(1);
    e.agent->act(bytes, 1, ActMode::kGreedy, {action, {}, mask});
    CHECK(action[0] == __builtin_ctz(bits));
  }
}

TEST_CASE("action masks: A2C and discrete SAC never take an illegal action") {
  CHECK_NOTHROW(run("  type: a2c\n  hidden: [16]\n", 400, "mask_a2c"));
  CHECK_NOTHROW(run("  type: sac\n  hidden: [16]\n  learning_starts: 100\n  batch_size: 16\n", 400,
                    "mask_sac"));
}

TEST_CASE("action masks: malformed masks are rejected") {
  Experiment e = experiment_from(ac_config("test/masked-v0", test::kPpoChain, 100, 1, 1));
  std::vector<uint8_t> obs(4 * sizeof(float), 0);
  std::vector<int64_t> action(1);
  const std::vector<uint8_t> none = {0, 0, 0, 0}, short_mask = {1, 1};
  CHECK_THROWS_WITH_AS(e.agent->act(obs, 1, ActMode::kGreedy, {action, {}, none}),
                       doctest::Contains("no legal action"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(e.agent->act(obs, 1, ActMode::kGreedy, {action, {}, short_mask}),
                       doctest::Contains("mask"), std::invalid_argument);
  const std::vector<uint8_t> only_three = {0, 0, 0, 1};
  e.agent->act(obs, 1, ActMode::kGreedy, {action, {}, only_three});
  CHECK(action[0] == 3);
}

}  // namespace
}  // namespace rl
