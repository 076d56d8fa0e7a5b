// PPO's engine backend (agents/common/nn/actor_critic_engine.h, agents/ppo/ppo_losses.h)
// against LibTorch autograd: acting, the minibatch loss and every parameter gradient for
// categorical (with legal-action masks) and diagonal Gaussian policies, with and without value
// clipping, on odd widths and minibatch sizes; and training deterministic per seed.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "actor_critic_util.h"
#include "agents/common/actor_critic.h"
#include "agents/common/distributions.h"
#include "agents/common/nn/actor_critic_engine.h"
#include "agents/common/nn/fast_math.h"
#include "agents/ppo/minibatch_order.h"
#include "agents/ppo/ppo_agent.h"
#include "agents/ppo/ppo_losses.h"
#include "agents/trainer.h"
#include "engine_test_util.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::check_near;

struct Case {
  bool discrete;
  bool clip_value_loss;
  int batch;
  const char* activation;
  bool cnn = false;  // A shared MinAtar CNN torso on [3, 6, 7] observations (ConvActorCritic).
  // MLP widths: odd ones by default; multiples of 16 take the engine's whole-vector loops.
  std::vector<int64_t> hidden = {13, 6};
};

// The CNN case's observation shape: non-square, so a mixed-up axis cannot go unnoticed.
const std::vector<int64_t> kCnnShape = {3, 6, 7};

// Observations for case `c`: sparse non-negative grids (about a third nonzero, with a pixel in
// two corners of row 0 and an all-zero row 1) for the CNN, else Gaussian vectors.
torch::Tensor case_observations(const Case& c, int batch, int64_t observation_size) {
  if (!c.cnn) return torch::randn({batch, observation_size});
  torch::Tensor obs = torch::rand({batch, 3, 6, 7});
  obs = obs * (obs > 0.65).to(torch::kFloat32);
  obs.index_put_({0, torch::indexing::Slice(), 0, 0}, 1.f);
  obs.index_put_({0, torch::indexing::Slice(), 5, 6}, 0.5f);
  if (batch > 1) obs[1].zero_();
  return obs.contiguous();
}

ActorCritic make_network(const Case& c, int64_t observation_size, int64_t action_dim) {
  ActorCriticOptions options;
  options.observation_shape = {observation_size};
  options.discrete = c.discrete;
  options.action_dim = action_dim;
  options.torso.hidden = c.hidden;
  options.torso.activation = c.activation;
  options.initial_log_std = -0.3;
  if (c.cnn) {
    options.observation_shape = kCnnShape;
    options.torso.kind = "minatar_cnn";
    options.torso.cnn_channels = 5;
    options.torso.cnn_hidden = 11;
    options.shared_torso = true;
  }
  ActorCritic net(options);
  // Larger policy weights than the near-uniform initialization, so the terms are not tiny.
  torch::NoGradGuard no_grad;
  net->actor_head()->weight.normal_(0.0, 0.5);
  if (!c.discrete) net->log_std().uniform_(-0.8, 0.4);
  // Nonzero biases (the initialization zeroes them), so a bias applied to the wrong unit shows.
  for (auto& p : net->named_parameters()) {
    if (p.key().ends_with("bias")) p.value().uniform_(-0.5, 0.5);
  }
  return net;
}

// The reference: PPO's LibTorch loss (as in PpoAgent's torch backend) through autograd.
struct Reference {
  torch::Tensor loss, policy_loss, value_loss, entropy;
  std::vector<torch::Tensor> gradients;
};

Reference torch_reference(ActorCritic& net, const Case& c, const torch::Tensor& obs,
                          const torch::Tensor& actions, const torch::Tensor& legal,
                          const torch::Tensor& old_log_probs, const torch::Tensor& old_values,
                          const torch::Tensor& advantages, const torch::Tensor& returns,
                          const ppo::LossSettings& s) {
  const test::PolicyTerms out = test::torch_policy_terms(net, c.discrete, obs, actions, legal);
  const torch::Tensor &log_prob = out.log_prob, &entropy = out.entropy;
  torch::Tensor adv = advantages;
  if (c.batch > 1) adv = (adv - adv.mean()) / (adv.std() + 1e-8);
  Reference r;
  r.policy_loss = clipped_surrogate_loss(log_prob, old_log_probs, adv, s.clip_coef);
  torch::Tensor v_loss = (out.value - returns).pow(2);
  if (s.clip_value_loss) {
    const torch::Tensor clipped =
        old_values + torch::clamp(out.value - old_values, -s.clip_coef, s.clip_coef);
    v_loss = torch::max(v_loss, (clipped - returns).pow(2));
  }
  r.value_loss = 0.5 * v_loss.mean();
  r.entropy = entropy.mean();
  r.loss = r.policy_loss - s.ent_coef * r.entropy + s.vf_coef * r.value_loss;
  r.loss.backward();
  for (auto& p : net->parameters()) r.gradients.push_back(p.grad().clone());
  return r;
}

void check_minibatch(const Case& c) {
  CAPTURE(c.discrete);
  CAPTURE(c.clip_value_loss);
  CAPTURE(c.batch);
  CAPTURE(std::string(c.activation));
  CAPTURE(c.cnn);
  const int64_t observation_size = 7, action_dim = c.discrete ? 5 : 3;
  const int batch = c.batch;
  torch::manual_seed(11 + batch);
  ActorCritic net = make_network(c, observation_size, action_dim);
  const torch::Tensor obs = case_observations(c, batch, observation_size);
  torch::Tensor actions, legal;
  if (c.discrete) {
    legal = torch::rand({batch, action_dim}) > 0.3;
    actions = torch::randint(action_dim, {batch}, torch::kInt64);
    // The stored action is always legal.
    legal.index_put_({torch::arange(batch), actions}, true);
  } else {
    actions = torch::randn({batch, action_dim});
  }
  torch::Tensor current_log_probs;
  torch::Tensor current_values;
  {
    torch::NoGradGuard no_grad;
    const PolicyOutput out = net->forward(obs);
    current_log_probs = c.discrete ? Categorical(out.actor, legal).log_prob(actions)
                                   : DiagGaussian(out.actor, net->log_std()).log_prob(actions);
    current_values = out.value;
  }
  // Old log-probs and values off the current ones, so that some ratios and values clip.
  const torch::Tensor old_log_probs = current_log_probs + 0.3 * torch::randn({batch});
  const torch::Tensor old_values = current_values + 0.4 * torch::randn({batch});
  const torch::Tensor advantages = torch::randn({batch}) * 2 + 0.5;
  const torch::Tensor returns = current_values + torch::randn({batch});
  const ppo::LossSettings settings{0.2, c.clip_value_loss, 0.03, 0.7};
  const Reference ref = torch_reference(net, c, obs, actions, legal, old_log_probs, old_values,
                                        advantages, returns, settings);

  nn::ActorCriticEngine engine(*net, c.discrete, action_dim, kCnnShape);
  CHECK(std::string(engine.network_kind()) == (c.cnn ? "BLAS MinAtar CNN" : "BLAS MLPs"));
  for (auto& p : net->parameters()) p.mutable_grad().fill_(123.f);  // The engine overwrites.
  const torch::Tensor legal_u8 = c.discrete ? legal.to(torch::kUInt8) : torch::Tensor();
  const nn::ActorCriticEngine::Evaluation now =
      engine.evaluate(obs.data_ptr<float>(), c.discrete ? actions.data_ptr<int64_t>() : nullptr,
                      c.discrete ? nullptr : actions.data_ptr<float>(),
                      c.discrete ? legal_u8.data_ptr<uint8_t>() : nullptr, batch);
  check_near(now.log_probs, current_log_probs, "log-probs");
  check_near(now.values, current_values, "values");
  std::vector<float> adv(batch), g_log_prob(batch), g_entropy(batch), g_value(batch);
  ppo::normalize_advantages(advantages.data_ptr<float>(), batch, adv.data());
  const ppo::MinibatchTerms terms{now.log_probs,
                                  old_log_probs.data_ptr<float>(),
                                  adv.data(),
                                  now.entropies,
                                  now.values,
                                  old_values.data_ptr<float>(),
                                  returns.data_ptr<float>(),
                                  batch};
  const ppo::LossValues loss =
      ppo::minibatch_loss(terms, settings, g_log_prob.data(), g_entropy.data(), g_value.data());
  CHECK(loss.loss == doctest::Approx(ref.loss.item<double>()).epsilon(1e-4));
  CHECK(loss.policy_loss == doctest::Approx(ref.policy_loss.item<double>()).epsilon(1e-4));
  CHECK(loss.value_loss == doctest::Approx(ref.value_loss.item<double>()).epsilon(1e-4));
  CHECK(loss.entropy == doctest::Approx(ref.entropy.item<double>()).epsilon(1e-4));
  CHECK(loss.clip_fraction > 0.0);  // The clipped branch is exercised.
  engine.backward(g_log_prob.data(), g_entropy.data(), g_value.data(), batch);
  const auto named = net->named_parameters();
  REQUIRE(named.size() == ref.gradients.size());
  for (size_t i = 0; i < named.size(); ++i) {
    check_near(named[i].value().grad().data_ptr<float>(), ref.gradients[i],
               "gradient of " + named[i].key());
  }
}

TEST_CASE("ppo engine: loss and every parameter gradient match autograd (categorical)") {
  for (int batch : {1, 3, 37}) {
    for (bool clip_value : {false, true}) {
      if (batch == 1) continue;  // One row: no clipped ratio to check (below).
      check_minibatch({true, clip_value, batch, "tanh"});
      check_minibatch({true, clip_value, batch, "relu"});
    }
  }
}

TEST_CASE("ppo engine: loss and every parameter gradient match autograd (shared MinAtar CNN)") {
  for (int batch : {2, 5, 33}) {
    for (bool clip_value : {false, true}) {
      check_minibatch({true, clip_value, batch, "relu", /*cnn=*/true});
    }
  }
}

TEST_CASE("ppo engine: loss and every parameter gradient match autograd (Gaussian)") {
  for (int batch : {5, 64}) {
    for (bool clip_value : {false, true}) {
      check_minibatch({false, clip_value, batch, "tanh"});
      check_minibatch({false, clip_value, batch, "relu"});
    }
  }
  // RLtools' Pendulum widths (32x32) and 16: the blocks of 16 lanes without a tail.
  check_minibatch({false, false, 64, "tanh", false, {32, 16}});
  check_minibatch({true, true, 37, "tanh", false, {16, 32}});
}

TEST_CASE("ppo engine: acting samples and scores actions as the distributions do") {
  torch::manual_seed(4);
  const int batch = 9;
  for (const auto& [discrete, cnn] : {std::pair{true, false}, {false, false}, {true, true}}) {
    CAPTURE(discrete);
    CAPTURE(cnn);
    const int64_t action_dim = discrete ? 4 : 2;
    const Case c{discrete, false, batch, cnn ? "relu" : "tanh", cnn};
    ActorCritic net = make_network(c, 5, action_dim);
    nn::ActorCriticEngine engine(*net, discrete, action_dim, kCnnShape);
    const torch::Tensor obs = case_observations(c, batch, 5);
    torch::NoGradGuard no_grad;
    const PolicyOutput out = net->forward(obs);
    std::vector<float> log_probs(batch), values(batch);
    if (discrete) {
      torch::Tensor legal = torch::ones({batch, action_dim}, torch::kUInt8);
      legal.index_put_({0, 1}, 0);
      legal.index_put_({2, 0}, 0);
      const torch::Tensor uniforms = torch::rand({batch});
      std::vector<int64_t> actions(batch);
      engine.act_discrete(obs.data_ptr<float>(), batch, legal.data_ptr<uint8_t>(),
                          uniforms.data_ptr<float>(), actions.data(), log_probs.data(),
                          values.data());
      const Categorical dist(out.actor, legal);
      const torch::Tensor cdf = dist.probs().cumsum(-1);
      for (int r = 0; r < batch; ++r) {
        // The sampled action is where the CDF first exceeds the uniform draw.
        const float u = uniforms[r].item<float>();
        CHECK(cdf[r][actions[r]].item<float>() > u);
        if (actions[r] > 0) CHECK(cdf[r][actions[r] - 1].item<float>() <= u + 1e-6f);
        CHECK(legal[r][actions[r]].item<uint8_t>() == 1);
      }
      check_near(log_probs.data(), dist.log_prob(torch::tensor(actions)), "log-probs");
      engine.act_discrete(obs.data_ptr<float>(), batch, nullptr, nullptr, actions.data(), nullptr,
                          nullptr);
      CHECK(torch::equal(torch::tensor(actions), Categorical(out.actor).mode()));
    } else {
      const torch::Tensor noise = torch::randn({batch, action_dim});
      std::vector<float> actions(batch * action_dim);
      engine.act_box(obs.data_ptr<float>(), batch, noise.data_ptr<float>(), actions.data(),
                     log_probs.data(), values.data());
      const torch::Tensor expected = out.actor + net->log_std().exp() * noise;
      check_near(actions.data(), expected, "actions");
      check_near(log_probs.data(), DiagGaussian(out.actor, net->log_std()).log_prob(expected),
                 "log-probs");
    }
    check_near(values.data(), out.value, "values");
  }
}

TEST_CASE("ppo engine: the fast tanh and exp are accurate over the float range") {
  float worst_tanh = 0.f, worst_exp = 0.f;
  for (float x = -40.f; x < 40.f; x += 0.00731f) {
    worst_tanh =
        std::max(worst_tanh, static_cast<float>(std::abs(nn::fast_tanh(x) - std::tanh(double{x}))));
    const double e = std::exp(double{x});
    worst_exp = std::max(worst_exp, static_cast<float>(std::abs(nn::fast_exp(x) - e) / e));
  }
  CHECK(worst_tanh < 3e-7f);
  CHECK(worst_exp < 3e-7f);
  CHECK(nn::fast_tanh(1e-30f) == 1e-30f);
  CHECK(nn::fast_tanh(-100.f) == -1.f);
}

TEST_CASE("ppo engine: the rational tanh of the dense layers is accurate and bounded by 1") {
  float worst = 0.f, worst_relative = 0.f, largest = 0.f;
  for (float x = -40.f; x < 40.f; x += 0.00731f) {
    const float y = nn::rational_tanh(x);
    const double exact = std::tanh(double{x});
    worst = std::max(worst, static_cast<float>(std::abs(y - exact)));
    if (std::abs(x) < 0.1f) {
      worst_relative = std::max(worst_relative, static_cast<float>(std::abs(y - exact) / exact));
    }
    largest = std::max(largest, std::abs(y));
  }
  CHECK(worst < 3e-7f);
  CHECK(worst_relative < 3e-7f);
  CHECK(largest <= 1.f);  // 1 - y^2, the derivative, never turns negative.
  CHECK(nn::rational_tanh(1e-30f) == 1e-30f);
  CHECK(nn::rational_tanh(-100.f) == -1.f);
  CHECK(nn::rational_tanh(9.6f) == 1.f);
}

TEST_CASE("ppo engine: the engine takes separate MLP torsos and the shared MinAtar CNN") {
  ActorCriticOptions options;
  options.observation_shape = {4};
  options.action_dim = 2;
  options.torso.hidden = {8};
  options.shared_torso = true;
  CHECK_FALSE(nn::ActorCriticEngine::applies(*ActorCritic(options)));
  options.shared_torso = false;
  CHECK(nn::ActorCriticEngine::applies(*ActorCritic(options)));
  options.observation_shape = kCnnShape;
  options.torso.kind = "minatar_cnn";
  CHECK_FALSE(nn::ActorCriticEngine::applies(*ActorCritic(options)));  // Separate CNN torsos.
  options.shared_torso = true;
  CHECK(nn::ActorCriticEngine::applies(*ActorCritic(options)));
  ActorCritic cnn(options);
  CHECK_THROWS_WITH_AS(nn::ActorCriticEngine(*cnn, true, 2, {2, 6, 7}),
                       doctest::Contains("do not fit the observations"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::ActorCriticEngine(*cnn, true, 2, kCnnShape).set_threads(2),
                       doctest::Contains("one thread"), std::invalid_argument);
  options.discrete = false;  // Box actions: the CNN on LibTorch.
  CHECK_FALSE(nn::ActorCriticEngine::applies(*ActorCritic(options)));
  options.discrete = true;
  options.torso.kind = "nature_cnn";
  options.observation_shape = {1, 36, 36};
  CHECK_FALSE(nn::ActorCriticEngine::applies(*ActorCritic(options)));
}

using test::Trained;

Trained train_ppo(const std::string& env_id, const std::string& agent_yaml,
                  const std::string& backend) {
  Experiment e = test::experiment_from(
      test::ac_config(env_id, agent_yaml + "  backend: " + backend + "\n", 2048, 4, 4));
  auto& agent = dynamic_cast<PpoAgent&>(*e.agent);
  CHECK(agent.uses_engine() == (backend == "auto"));
  CHECK((agent.describe().find("engine backend") != std::string::npos) == (backend == "auto"));
  return test::train_and_save(e, "ppo_engine_" + backend);
}

TEST_CASE("ppo engine: the critic on a second thread gives the same outputs and gradients") {
  for (bool discrete : {true, false}) {
    CAPTURE(discrete);
    const int batch = 517, observation_size = 6;  // Enough rows to act on two threads too.
    const int64_t action_dim = discrete ? 3 : 2;
    torch::manual_seed(21);
    ActorCritic net = make_network({discrete, false, batch, "tanh"}, observation_size, action_dim);
    const torch::Tensor obs = torch::randn({batch, observation_size});
    const torch::Tensor draws = discrete ? torch::rand({batch}) : torch::randn({batch, action_dim});
    const torch::Tensor upstream = torch::randn({3, batch});
    // One pass per thread count: acting, evaluating the acted actions, backward.
    const auto run = [&](int threads) {
      nn::ActorCriticEngine engine(*net, discrete, action_dim);
      engine.set_threads(threads);
      CHECK(engine.threads() == threads);
      std::vector<int64_t> discrete_actions(batch);
      std::vector<float> box_actions(batch * action_dim), outputs(3 * batch);
      if (discrete) {
        engine.act_discrete(obs.data_ptr<float>(), batch, nullptr, draws.data_ptr<float>(),
                            discrete_actions.data(), outputs.data(), outputs.data() + batch);
      } else {
        engine.act_box(obs.data_ptr<float>(), batch, draws.data_ptr<float>(), box_actions.data(),
                       outputs.data(), outputs.data() + batch);
      }
      const nn::ActorCriticEngine::Evaluation now = engine.evaluate(
          obs.data_ptr<float>(), discrete_actions.data(), box_actions.data(), nullptr, batch);
      outputs.insert(outputs.end(), now.log_probs, now.log_probs + batch);
      outputs.insert(outputs.end(), now.values, now.values + batch);
      const float* g = upstream.data_ptr<float>();
      engine.backward(g, g + batch, g + 2 * batch, batch);
      for (const auto& p : net->parameters()) {
        const float* grad = p.grad().data_ptr<float>();
        outputs.insert(outputs.end(), grad, grad + p.numel());
      }
      return outputs;
    };
    const std::vector<float> one = run(1), two = run(2);
    CHECK(one == two);
  }
  ActorCriticOptions options;
  options.observation_shape = {4};
  options.action_dim = 2;
  options.torso.hidden = {8};
  ActorCritic net(options);
  nn::ActorCriticEngine engine(*net, true, 2);
  CHECK_THROWS_WITH_AS(engine.set_threads(3), doctest::Contains("1 or 2 threads"),
                       std::invalid_argument);
}

TEST_CASE("ppo engine: learner_threads 2 without the engine is an error naming the setting") {
  const std::string yaml =
      std::string(test::kPpoChain) + "  backend: torch\n  learner_threads: 2\n";
  CHECK_THROWS_WITH(test::experiment_from(test::ac_config("test/chain-v0", yaml, 2048, 4, 4)),
                    doctest::Contains("learner_threads: 2 needs the engine backend"));
}

TEST_CASE("ppo engine: training is deterministic per seed (categorical and Gaussian)") {
  const std::string gaussian =
      "  type: ppo\n  hidden: [16]\n  num_steps: 64\n  num_minibatches: 4\n  update_epochs: 2\n";
  for (const auto& [env_id, yaml] :
       {std::pair<std::string, std::string>{"test/chain-v0", test::kPpoChain},
        {"test/target-v0", gaussian}}) {
    CAPTURE(env_id);
    const Trained first = train_ppo(env_id, yaml, "auto");
    const Trained second = train_ppo(env_id, yaml, "auto");
    CHECK(first.checkpoint == second.checkpoint);
    CHECK(first.final_return == second.final_return);
    const Trained two_threads = train_ppo(env_id, yaml + "  learner_threads: 2\n", "auto");
    CHECK(two_threads.checkpoint == first.checkpoint);
    CHECK(two_threads.final_return == first.final_return);
    const Trained torch_backend = train_ppo(env_id, yaml, "torch");
    CHECK(torch_backend.checkpoint != first.checkpoint);  // Another optimizer state format.
  }
}

TEST_CASE("ppo engine: explained variance on flat buffers matches the tensor formula") {
  torch::manual_seed(5);
  for (const int64_t n : {2, 37, 4096}) {
    const torch::Tensor returns = torch::randn({n}) * 3 + 1;
    const torch::Tensor values = returns * 0.7 + torch::randn({n});
    const double expected = 1.0 - ((returns - values).var() / returns.var()).item<double>();
    CAPTURE(n);
    CHECK(ppo::explained_variance(returns.data_ptr<float>(), values.data_ptr<float>(), n) ==
          doctest::Approx(expected).epsilon(1e-6));
  }
  const std::vector<float> constant(8, 2.f), values(8, 1.f);
  CHECK(std::isnan(ppo::explained_variance(constant.data(), values.data(), 8)));
  CHECK(std::isnan(ppo::explained_variance(constant.data(), values.data(), 1)));
}

TEST_CASE("ppo engine: the minibatch order is torch::randperm's permutation, drawn the same way") {
  for (const int64_t n : {1, 2, 7, 2048}) {
    at::Generator ours = at::make_generator<at::CPUGeneratorImpl>(17);
    at::Generator theirs = at::make_generator<at::CPUGeneratorImpl>(17);
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int epoch = 0; epoch < 3; ++epoch) {  // The generators stay in step.
      ppo::random_permutation(ours, n, order.data());
      const torch::Tensor expected = torch::randperm(n, theirs, torch::kInt64);
      CAPTURE(n);
      CHECK(std::equal(order.begin(), order.end(), expected.data_ptr<int64_t>()));
    }
  }
}

}  // namespace
}  // namespace rl
