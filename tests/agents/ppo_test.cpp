#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "actor_critic_util.h"
#include "agents/checkpoint.h"
#include "agents/ppo/ppo_agent.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::ac_config;
using test::experiment_from;
using test::train_in_temp_dir;

PpoAgent& ppo(Experiment& e) { return dynamic_cast<PpoAgent&>(*e.agent); }

TEST_CASE("ppo: the first minibatch of the first epoch has ratio 1, later ones do not") {
  Experiment e = experiment_from(ac_config("test/chain-v0", test::kPpoChain, 128));
  train_in_temp_dir(e, "ppo_ratio");
  const PpoUpdateStats& stats = ppo(e).last_update();
  CHECK(ppo(e).updates_done() == 1);
  CHECK(stats.first_ratio_max_deviation < 1e-5);
  CHECK(stats.epochs_run == 4);
  CHECK(stats.minibatches_run == 16);
  // The HUD view of the policy: one probability per action.
  std::vector<uint8_t> obs(8 * sizeof(float), 0);
  reinterpret_cast<float*>(obs.data())[3] = 1.f;
  const ActionValues before = e.agent->action_values(obs);
  CHECK(before.kind == "probability");
  CHECK(before.values.size() == 2);
  CHECK(before.values[0] + before.values[1] == doctest::Approx(1.0));
}

TEST_CASE("ppo: the clipped surrogate stops the gradient only where clipping binds") {
  const auto gradient = [](double ratio, double advantage) {
    const torch::Tensor new_log_prob = torch::full({1}, std::log(ratio)).set_requires_grad(true);
    const torch::Tensor loss =
        clipped_surrogate_loss(new_log_prob, torch::zeros({1}), torch::full({1}, advantage), 0.2);
    loss.backward();
    return std::pair{loss.item<double>(), new_log_prob.grad().item<double>()};
  };
  // Positive advantage: increasing the ratio past 1 + c earns nothing more.
  auto [loss, grad] = gradient(1.5, 1.0);
  CHECK(loss == doctest::Approx(-1.2));
  CHECK(grad == 0.0);
  std::tie(loss, grad) = gradient(1.1, 1.0);
  CHECK(loss == doctest::Approx(-1.1));
  CHECK(grad == doctest::Approx(-1.1));  // d(-r)/d log r = -r
  // Below 1 - c with a positive advantage the pessimistic (unclipped) term is used.
  std::tie(loss, grad) = gradient(0.5, 1.0);
  CHECK(loss == doctest::Approx(-0.5));
  CHECK(grad == doctest::Approx(-0.5));
  // Negative advantage: pushing the ratio below 1 - c earns nothing more...
  std::tie(loss, grad) = gradient(0.5, -1.0);
  CHECK(loss == doctest::Approx(0.8));
  CHECK(grad == 0.0);
  // ...but a ratio above 1 + c is still penalized in full.
  std::tie(loss, grad) = gradient(1.5, -1.0);
  CHECK(loss == doctest::Approx(1.5));
  CHECK(grad == doctest::Approx(1.5));
}

TEST_CASE("ppo: target_kl stops the update early") {
  Experiment e = experiment_from(ac_config("test/chain-v0", test::kPpoChain, 128),
                                 {"agent.target_kl=1e-9", "agent.lr=0.05"});
  train_in_temp_dir(e, "ppo_kl");
  const PpoUpdateStats& stats = ppo(e).last_update();
  CHECK(stats.stopped_early);
  CHECK(stats.minibatches_run >= 1);
  CHECK(stats.minibatches_run < 16);
}

TEST_CASE("ppo: anneal_clip scales the clip range down with the updates left") {
  Experiment e =
      experiment_from(ac_config("test/chain-v0", test::kPpoChain, 256), {"agent.anneal_clip=true"});
  CHECK(ppo(e).clip_coef() == doctest::Approx(0.2));
  train_in_temp_dir(e, "ppo_anneal_clip");
  REQUIRE(ppo(e).updates_done() == 2);
  CHECK(ppo(e).clip_coef() == doctest::Approx(0.0));
  Experiment fixed = experiment_from(ac_config("test/chain-v0", test::kPpoChain, 256));
  train_in_temp_dir(fixed, "ppo_fixed_clip");
  CHECK(ppo(fixed).clip_coef() == doctest::Approx(0.2));
}

TEST_CASE("ppo: a truncated step's reward is bootstrapped from V(final observation)") {
  ConfigDocument doc = ConfigDocument::parse(
      "type: ppo\nhidden: [8]\nnum_steps: 4\ngamma: 0.9\nnum_minibatches: 1\n", "test.yaml");
  ConfigSection section = doc.root();
  const PpoSettings settings = read_ppo_settings(section);
  AgentContext context;
  context.observation_space = Space::box({2}, -5.f, 5.f, DType::kF32);
  context.action_space = Space::discrete(2);
  context.num_envs = 2;
  context.total_steps = 100;
  PpoAgent agent(settings, context);

  const std::vector<float> obs = {0.1f, 0.2f, -0.3f, 0.4f};
  const std::vector<float> next = {1.f, -2.f, 3.f, 0.5f};
  std::vector<uint8_t> obs_bytes(16), next_bytes(16);
  std::memcpy(obs_bytes.data(), obs.data(), 16);
  std::memcpy(next_bytes.data(), next.data(), 16);
  std::vector<int64_t> actions(2);
  agent.act(obs_bytes, 2, ActMode::kExplore, {actions, {}});
  const std::vector<float> rewards = {1.f, 2.f};
  const std::vector<uint8_t> terminated = {1, 0}, truncated = {0, 1};
  TransitionBatch t;
  t.batch = 2;
  t.observations = obs_bytes;
  t.discrete_actions = actions;
  t.rewards = rewards;
  t.next_observations = next_bytes;
  t.terminated = terminated;
  t.truncated = truncated;
  agent.observe(t);

  torch::NoGradGuard no_grad;
  const torch::Tensor final_values = agent.network()->value(torch::tensor(next).reshape({2, 2}));
  const RolloutBuffer& rollout = agent.rollout();
  CHECK(rollout.rewards()[0] == doctest::Approx(1.0));  // Terminated: no bootstrap.
  CHECK(rollout.rewards()[1] ==
        doctest::Approx(2.0 + 0.9 * final_values[1].item<double>()).epsilon(1e-6));
  CHECK(final_values[1].item<double>() != 0.0);
  CHECK(rollout.episode_ends()[0] == 1);
  CHECK(rollout.episode_ends()[1] == 1);
  // The stored log-prob is the policy's for the sampled action.
  const torch::Tensor logits = agent.network()->forward(torch::tensor(obs).reshape({2, 2})).actor;
  CHECK(rollout.log_probs()[1] ==
        doctest::Approx(torch::log_softmax(logits, 1)[1][actions[1]].item<double>()));
}

TEST_CASE("ppo: learns the chain probe within a few thousand steps") {
  Experiment e = experiment_from(ac_config("test/chain-v0", test::kPpoChain, 6000));
  const TrainSummary summary = train_in_temp_dir(e, "ppo_chain");
  CHECK(summary.final_eval_mean >= *e.env_spec.reward_threshold);
}

TEST_CASE("ppo: learns a continuous target with a Gaussian policy") {
  Experiment e = experiment_from(ac_config("test/target-v0",
                                           "  type: ppo\n"
                                           "  hidden: [32]\n"
                                           "  num_steps: 64\n"
                                           "  num_minibatches: 4\n"
                                           "  update_epochs: 8\n"
                                           "  lr: 3e-3\n"
                                           "  ent_coef: 0.0\n",
                                           20000, 4, 64));
  const TrainSummary summary = train_in_temp_dir(e, "ppo_target");
  CHECK(summary.final_eval_mean > -0.05);
}

TEST_CASE("ppo: checkpoint round trip restores the policy, counters and reward statistics") {
  test::TempDir dir("ppo_checkpoint");
  const std::string yaml = ac_config("test/chain-v0", test::kPpoChain, 512);
  Experiment trained = experiment_from(yaml, {"agent.normalize_reward=true"});
  TrainOptions options;
  options.run_dir = dir.str();
  train(trained, options);
  const std::string path = (dir.path / "checkpoints" / "final.pt").string();

  Experiment fresh = experiment_from(yaml, {"agent.normalize_reward=true", "seed=9"});
  std::vector<uint8_t> obs(8 * sizeof(float), 0);
  reinterpret_cast<float*>(obs.data())[2] = 1.f;
  CHECK(fresh.agent->action_values(obs).values != trained.agent->action_values(obs).values);
  load_checkpoint(path, fresh);
  CHECK(fresh.agent->action_values(obs).values == trained.agent->action_values(obs).values);
  CHECK(ppo(fresh).updates_done() == ppo(trained).updates_done());

  // A checkpoint without reward statistics cannot serve a config that normalizes rewards.
  Experiment plain = experiment_from(yaml);
  TrainOptions plain_options;
  test::TempDir plain_dir("ppo_checkpoint_plain");
  plain_options.run_dir = plain_dir.str();
  train(plain, plain_options);
  Experiment wants_stats = experiment_from(yaml, {"agent.normalize_reward=true"});
  CHECK_THROWS_WITH_AS(
      load_checkpoint((plain_dir.path / "checkpoints" / "final.pt").string(), wants_stats),
      doctest::Contains("reward_stats"), std::runtime_error);
  // A different network is rejected by name.
  Experiment wider = experiment_from(yaml, {"agent.hidden=[64]"});
  CHECK_THROWS_WITH_AS(load_checkpoint(path, wider), doctest::Contains("different network"),
                       std::runtime_error);
}

TEST_CASE("ppo: bad settings are config errors naming the key") {
  CHECK_THROWS_WITH_AS(
      experiment_from(ac_config("test/chain-v0", test::kPpoChain, 128), {"agent.clip_coeff=0.1"}),
      doctest::Contains("clip_coeff"), ConfigError);
  CHECK_THROWS_WITH_AS(experiment_from(ac_config("test/chain-v0", test::kPpoChain, 128),
                                       {"agent.num_minibatches=1000"}),
                       doctest::Contains("num_minibatches"), ConfigError);
  CHECK_THROWS_WITH_AS(
      experiment_from(ac_config("test/chain-v0", test::kPpoChain, 128), {"agent.gae_lambda=2"}),
      doctest::Contains("agent.gae_lambda"), ConfigError);
  CHECK_THROWS_WITH_AS(
      experiment_from(ac_config("test/chain-v0", test::kPpoChain, 128), {"agent.torso=nature_cnn"}),
      doctest::Contains("nature_cnn"), ConfigError);
}

}  // namespace
}  // namespace rl
