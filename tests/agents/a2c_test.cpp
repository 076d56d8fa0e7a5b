#include "actor_critic_util.h"
#include "agents/a2c/a2c_agent.h"
#include "agents/checkpoint.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::ac_config;
using test::experiment_from;

using test::kA2cChain;

TEST_CASE("a2c: learns the chain probe") {
  test::TempDir dir("a2c_chain");
  // Judged greedily: the entropy bonus keeps the learned policy slightly stochastic, so its
  // samples (the a2c evaluation default) fall just short of the optimum it has learned.
  Experiment e = experiment_from(ac_config("test/chain-v0", kA2cChain, 8000),
                                 {"train.eval_deterministic=true"});
  TrainOptions options;
  options.run_dir = dir.str();
  const TrainSummary summary = train(e, options);
  CHECK(summary.final_eval_mean >= *e.env_spec.reward_threshold);
  // One gradient step per rollout of 8 steps x 4 envs.
  CHECK(dynamic_cast<A2cAgent&>(*e.agent).updates_done() == 8000 / 32);
}

TEST_CASE("a2c: defaults follow Stable-Baselines3 and adam is available") {
  ConfigDocument doc = ConfigDocument::parse("type: a2c\n", "test.yaml");
  ConfigSection section = doc.root();
  const A2cSettings defaults = read_a2c_settings(section);
  CHECK(defaults.common.num_steps == 5);
  CHECK(defaults.common.optimizer.kind == "rmsprop");
  CHECK(defaults.common.optimizer.lr == doctest::Approx(7e-4));
  CHECK(defaults.common.gae_lambda == 1.0);
  test::TempDir dir("a2c_adam");
  Experiment e =
      experiment_from(ac_config("test/chain-v0", kA2cChain, 320), {"agent.optimizer=adam"});
  TrainOptions options;
  options.run_dir = dir.str();
  train(e, options);
  CHECK(e.agent->describe().find("adam") != std::string::npos);
}

}  // namespace
}  // namespace rl
