// A2C's engine backend (agents/common/nn/actor_critic_engine.h, agents/a2c/a2c_losses.h) against
// LibTorch autograd: the rollout loss and every parameter gradient for categorical (with
// legal-action masks) and diagonal Gaussian policies on odd widths and batch sizes; the agent
// picks the engine with RMSprop, trains deterministically per seed, and backend torch opts out.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "actor_critic_util.h"
#include "agents/a2c/a2c_agent.h"
#include "agents/a2c/a2c_losses.h"
#include "agents/common/actor_critic.h"
#include "agents/common/distributions.h"
#include "agents/common/nn/actor_critic_engine.h"
#include "agents/trainer.h"
#include "engine_test_util.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::check_near;

// One rollout of `batch` rows through the engine and through A2C's LibTorch loss (as
// A2cAgent's torch backend writes it): the loss terms and every parameter gradient agree.
void check_rollout(bool discrete, int batch, const char* activation) {
  CAPTURE(discrete);
  CAPTURE(batch);
  CAPTURE(std::string(activation));
  const int64_t observation_size = 5, action_dim = discrete ? 4 : 2;
  torch::manual_seed(31 + batch);
  ActorCriticOptions options;
  options.observation_shape = {observation_size};
  options.discrete = discrete;
  options.action_dim = action_dim;
  options.torso.hidden = {11, 7};
  options.torso.activation = activation;
  options.initial_log_std = -0.2;
  ActorCritic net(options);
  {
    torch::NoGradGuard no_grad;
    net->actor_head()->weight.normal_(0.0, 0.5);
    if (!discrete) net->log_std().uniform_(-0.8, 0.4);
  }
  const torch::Tensor obs = torch::randn({batch, observation_size});
  torch::Tensor actions, legal;
  if (discrete) {
    legal = torch::rand({batch, action_dim}) > 0.3;
    actions = torch::randint(action_dim, {batch}, torch::kInt64);
    legal.index_put_({torch::arange(batch), actions}, true);
  } else {
    actions = torch::randn({batch, action_dim});
  }
  const torch::Tensor advantages = torch::randn({batch}) * 2 + 0.5;
  const torch::Tensor returns = torch::randn({batch});
  const a2c::LossSettings settings{0.03, 0.7};

  // The reference.
  const test::PolicyTerms reference = test::torch_policy_terms(net, discrete, obs, actions, legal);
  const torch::Tensor policy_loss = -(advantages * reference.log_prob).mean();
  const torch::Tensor value_loss = (returns - reference.value).pow(2).mean();
  const torch::Tensor entropy_mean = reference.entropy.mean();
  const torch::Tensor loss =
      policy_loss - settings.ent_coef * entropy_mean + settings.vf_coef * value_loss;
  loss.backward();
  std::vector<torch::Tensor> expected;
  for (auto& p : net->parameters()) expected.push_back(p.grad().clone());

  // The engine.
  nn::ActorCriticEngine engine(*net, discrete, action_dim);
  for (auto& p : net->parameters()) p.mutable_grad().fill_(123.f);  // The engine overwrites.
  const torch::Tensor legal_u8 = discrete ? legal.to(torch::kUInt8) : torch::Tensor();
  const nn::ActorCriticEngine::Evaluation now =
      engine.evaluate(obs.data_ptr<float>(), discrete ? actions.data_ptr<int64_t>() : nullptr,
                      discrete ? nullptr : actions.data_ptr<float>(),
                      discrete ? legal_u8.data_ptr<uint8_t>() : nullptr, batch);
  std::vector<float> g_log_prob(batch), g_entropy(batch), g_value(batch);
  const a2c::LossValues values =
      a2c::rollout_loss({now.log_probs, now.entropies, now.values, advantages.data_ptr<float>(),
                         returns.data_ptr<float>(), batch},
                        settings, g_log_prob.data(), g_entropy.data(), g_value.data());
  CHECK(values.loss == doctest::Approx(loss.item<double>()).epsilon(1e-4));
  CHECK(values.policy_loss == doctest::Approx(policy_loss.item<double>()).epsilon(1e-4));
  CHECK(values.value_loss == doctest::Approx(value_loss.item<double>()).epsilon(1e-4));
  CHECK(values.entropy == doctest::Approx(entropy_mean.item<double>()).epsilon(1e-4));
  engine.backward(g_log_prob.data(), g_entropy.data(), g_value.data(), batch);
  const auto named = net->named_parameters();
  REQUIRE(named.size() == expected.size());
  for (size_t i = 0; i < named.size(); ++i) {
    check_near(named[i].value().grad().data_ptr<float>(), expected[i],
               "gradient of " + named[i].key());
  }
}

TEST_CASE("a2c engine: loss and every parameter gradient match autograd") {
  for (int batch : {1, 6, 40}) {
    for (const char* activation : {"tanh", "relu"}) {
      check_rollout(true, batch, activation);
      check_rollout(false, batch, activation);
    }
  }
}

using test::kA2cChain;
using test::Trained;

Trained train_a2c(const std::string& extra_yaml, const std::string& backend) {
  Experiment e = test::experiment_from(test::ac_config(
      "test/chain-v0", std::string(kA2cChain) + extra_yaml + "  backend: " + backend + "\n", 2000));
  auto& agent = dynamic_cast<A2cAgent&>(*e.agent);
  CHECK(agent.uses_engine() == (backend == "auto"));
  CHECK((agent.describe().find("engine backend") != std::string::npos) == (backend == "auto"));
  return test::train_and_save(e, "a2c_engine_" + backend);
}

TEST_CASE("a2c engine: RMSprop and Adam on the engine, deterministic per seed; torch opts out") {
  for (const std::string extra : {"", "  optimizer: adam\n  normalize_advantages: true\n"}) {
    CAPTURE(extra);
    const Trained first = train_a2c(extra, "auto");
    const Trained second = train_a2c(extra, "auto");
    CHECK(first.checkpoint == second.checkpoint);
    CHECK(first.final_return == second.final_return);
    const Trained torch_backend = train_a2c(extra, "torch");
    CHECK(torch_backend.checkpoint != first.checkpoint);  // Another optimizer state format.
  }
}

TEST_CASE("a2c engine: a shared torso stays on LibTorch; a bad backend is a config error") {
  Experiment shared = test::experiment_from(
      test::ac_config("test/chain-v0", std::string(kA2cChain) + "  shared_torso: true\n", 64));
  CHECK_FALSE(dynamic_cast<A2cAgent&>(*shared.agent).uses_engine());
  CHECK_THROWS_WITH(test::experiment_from(test::ac_config(
                        "test/chain-v0", std::string(kA2cChain) + "  backend: gpu\n", 64)),
                    doctest::Contains("backend"));
}

}  // namespace
}  // namespace rl
