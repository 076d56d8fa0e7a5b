#include <cmath>
#include <vector>

#include "actor_critic_util.h"
#include "agents/checkpoint.h"
#include "agents/sac/sac_agent.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::ac_config;
using test::experiment_from;
using test::train_in_temp_dir;

SacAgent& sac(Experiment& e) { return dynamic_cast<SacAgent&>(*e.agent); }

std::vector<uint8_t> target_observation(float target) {
  std::vector<uint8_t> bytes(sizeof(float));
  std::memcpy(bytes.data(), &target, sizeof(float));
  return bytes;
}

TEST_CASE("sac: learns a continuous target and tunes alpha") {
  Experiment e = experiment_from(ac_config("test/target-v0", test::kSacTarget, 2000, 1, 64));
  CHECK(sac(e).target_entropy() == -1.0);
  const TrainSummary summary = train_in_temp_dir(e, "sac_target");
  CHECK(summary.final_eval_mean > -0.02);
  CHECK(sac(e).alpha() != doctest::Approx(0.2));
  CHECK(sac(e).gradient_steps_done() == 2000 - 200 + 1);
  // Greedy actions follow the target, within the env's bounds.
  const ActionValues low = e.agent->action_values(target_observation(-0.8f));
  const ActionValues high = e.agent->action_values(target_observation(0.6f));
  CHECK(low.values[0] == doctest::Approx(-0.8).epsilon(0.15));
  CHECK(high.values[0] == doctest::Approx(0.6).epsilon(0.15));
}

TEST_CASE("sac: random actions before learning_starts cover the action bounds") {
  Experiment e = experiment_from(ac_config("test/target-v0", test::kSacTarget, 2000, 1, 64));
  std::vector<float> actions(200);
  std::vector<uint8_t> obs(200 * sizeof(float), 0);
  e.agent->act(obs, 200, ActMode::kExplore, {{}, actions});
  const auto [lo, hi] = std::minmax_element(actions.begin(), actions.end());
  CHECK(*lo >= -2.f);
  CHECK(*hi <= 2.f);
  CHECK(*lo < -1.5f);
  CHECK(*hi > 1.5f);
}

TEST_CASE("sac: the discrete-action variant learns the chain probe") {
  Experiment e = experiment_from(ac_config("test/chain-v0",
                                           "  type: sac\n"
                                           "  hidden: [64]\n"
                                           "  batch_size: 64\n"
                                           "  learning_starts: 500\n"
                                           "  gamma: 0.9\n"
                                           "  target_entropy_scale: 0.3\n",
                                           3000, 1, 16));
  // A wrong step only delays the goal, so the action gap is small; a low target entropy keeps
  // the entropy bonus from outweighing it (with the default 0.89 log 2 wandering forever pays).
  CHECK(sac(e).target_entropy() == doctest::Approx(0.3 * std::log(2.0)));
  const TrainSummary summary = train_in_temp_dir(e, "sac_chain");
  CHECK(summary.final_eval_mean >= *e.env_spec.reward_threshold);
}

TEST_CASE("sac: checkpoint round trip restores actor, critics and alpha") {
  test::TempDir dir("sac_checkpoint");
  const std::string yaml = ac_config("test/target-v0", test::kSacTarget, 400, 1, 4);
  Experiment trained = experiment_from(yaml);
  TrainOptions options;
  options.run_dir = dir.str();
  train(trained, options);
  Experiment fresh = experiment_from(yaml, {"seed=8"});
  const auto obs = target_observation(0.3f);
  CHECK(fresh.agent->action_values(obs).values != trained.agent->action_values(obs).values);
  load_checkpoint((dir.path / "checkpoints" / "final.pt").string(), fresh);
  CHECK(fresh.agent->action_values(obs).values == trained.agent->action_values(obs).values);
  CHECK(sac(fresh).alpha() == sac(trained).alpha());
  CHECK(sac(fresh).gradient_steps_done() == sac(trained).gradient_steps_done());
}

TEST_CASE("sac: the discrete variant's default target entropy is 0.89 log(actions)") {
  Experiment e = experiment_from(ac_config("test/chain-v0", "  type: sac\n", 100, 1, 1));
  CHECK(sac(e).target_entropy() == doctest::Approx(0.89 * std::log(2.0)));
}

TEST_CASE("sac: bad settings are config errors") {
  const std::string yaml = ac_config("test/target-v0", test::kSacTarget, 400);
  CHECK_THROWS_WITH_AS(experiment_from(yaml, {"agent.log_std_max=-6"}),
                       doctest::Contains("log_std_max"), ConfigError);
  CHECK_THROWS_WITH_AS(experiment_from(yaml, {"agent.torso=minatar_cnn"}),
                       doctest::Contains("minatar_cnn"), ConfigError);
  CHECK_THROWS_WITH_AS(experiment_from(yaml, {"agent.polyak=0.1"}), doctest::Contains("polyak"),
                       ConfigError);
}

}  // namespace
}  // namespace rl
