// The small-network engine (agents/common/nn) and SAC's engine backend against LibTorch
// autograd: forward outputs, every parameter gradient, input gradients, the squashed
// Gaussian's samples and log-probs, SAC's critic, actor and alpha losses, one Adam step and
// the Polyak update, on odd widths and batch sizes.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

#include "actor_critic_util.h"
#include "agents/common/distributions.h"
#include "agents/common/nn/dense_stack.h"
#include "agents/common/nn/polyak.h"
#include "agents/common/nn/tanh_gaussian.h"
#include "agents/sac/sac_agent.h"
#include "agents/sac/sac_engine.h"
#include "agents/sac/sac_losses.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

constexpr float kTolerance = 2e-5f;  // Relative to the largest reference magnitude.

// Every element of `actual` (n floats) is within kTolerance * (1 + max |expected|).
void check_close(const float* actual, const torch::Tensor& expected_tensor, const char* what) {
  CAPTURE(what);
  const torch::Tensor expected = expected_tensor.detach().contiguous().reshape({-1});
  const float* e = expected.data_ptr<float>();
  float scale = 1.f, worst = 0.f;
  for (int64_t i = 0; i < expected.numel(); ++i) scale = std::max(scale, std::abs(e[i]));
  for (int64_t i = 0; i < expected.numel(); ++i)
    worst = std::max(worst, std::abs(actual[i] - e[i]));
  CHECK(worst <= kTolerance * scale);
}

void check_close(const torch::Tensor& actual, const torch::Tensor& expected, const char* what) {
  REQUIRE(actual.numel() == expected.numel());
  check_close(actual.detach().contiguous().data_ptr<float>(), expected, what);
}

torch::Tensor apply(nn::Activation activation, const torch::Tensor& x) {
  if (activation == nn::Activation::kRelu) return torch::relu(x);
  if (activation == nn::Activation::kTanh) return torch::tanh(x);
  return x;
}

void check_dense_stack(nn::Activation hidden, nn::Activation output, int batch) {
  CAPTURE(batch);
  CAPTURE(static_cast<int>(hidden));
  CAPTURE(static_cast<int>(output));
  torch::manual_seed(3);
  std::vector<torch::nn::Linear> layers = {torch::nn::Linear(7, 13), torch::nn::Linear(13, 5),
                                           torch::nn::Linear(5, 3)};
  torch::Tensor input = torch::randn({batch, 7}).requires_grad_(true);
  const torch::Tensor upstream = torch::randn({batch, 3});
  torch::Tensor x = input;
  for (size_t i = 0; i < layers.size(); ++i) {
    x = apply(i + 1 == layers.size() ? output : hidden, layers[i]->forward(x));
  }
  (x * upstream).sum().backward();
  std::vector<torch::Tensor> expected_gradients;
  for (auto& layer : layers) {
    for (auto& p : layer->parameters()) {
      expected_gradients.push_back(p.grad().clone());
      p.mutable_grad().fill_(123.f);  // The engine overwrites gradients.
    }
  }

  nn::DenseStack stack(layers, hidden, output);
  CHECK(stack.input_size() == 7);
  CHECK(stack.output_size() == 3);
  const torch::Tensor values = input.detach().contiguous();
  // Widths 7, 13 and 5: both the 8-lane blocks and the tails of the dot products.
  check_close(stack.forward_rows(values.data_ptr<float>(), batch), x, "outputs by rows");
  check_close(stack.forward(values.data_ptr<float>(), batch), x, "outputs");
  torch::Tensor gradient = upstream.clone();
  const float* input_gradient =
      stack.backward(gradient.data_ptr<float>(), batch, {.input_gradient = true});
  check_close(input_gradient, input.grad(), "input gradient");
  size_t k = 0;
  for (auto& layer : layers) {
    for (auto& p : layer->parameters()) check_close(p.grad(), expected_gradients[k++], "param");
  }
}

TEST_CASE("nn engine: dense stacks match autograd (outputs, parameter and input gradients)") {
  using nn::Activation;
  for (int batch : {1, 5, 100}) {
    check_dense_stack(Activation::kRelu, Activation::kNone, batch);
    check_dense_stack(Activation::kTanh, Activation::kNone, batch);
    check_dense_stack(Activation::kTanh, Activation::kTanh, batch);
    check_dense_stack(Activation::kRelu, Activation::kRelu, batch);
  }
}

TEST_CASE("nn engine: mlp_layers reads torsos and refuses other modules") {
  torch::nn::Sequential mlp(torch::nn::Flatten(), torch::nn::Linear(4, 7), torch::nn::Tanh(),
                            torch::nn::Linear(7, 13), torch::nn::Tanh());
  const nn::MlpLayers layers = nn::mlp_layers(mlp);
  CHECK(layers.linears.size() == 2);
  CHECK(layers.activation == nn::Activation::kTanh);
  CHECK_FALSE(nn::is_plain_mlp(
      torch::nn::Sequential(torch::nn::Linear(4, 7), torch::nn::ReLU(), torch::nn::Linear(7, 3))));
  CHECK_FALSE(nn::is_plain_mlp(torch::nn::Sequential(torch::nn::Linear(4, 7), torch::nn::ReLU(),
                                                     torch::nn::Linear(7, 3), torch::nn::Tanh())));
  CHECK_FALSE(nn::is_plain_mlp(torch::nn::Sequential(torch::nn::Conv2d(1, 2, 3))));
  CHECK_THROWS_AS(
      nn::DenseStack({torch::nn::Linear(4, 7), torch::nn::Linear(6, 2)}, nn::Activation::kRelu),
      std::invalid_argument);
}

TEST_CASE("nn engine: the tanh-squashed Gaussian matches autograd (samples, log-probs, grads)") {
  constexpr double kMin = -5.0, kMax = 2.0;
  for (int batch : {1, 5, 100}) {
    CAPTURE(batch);
    torch::manual_seed(11);
    const int dim = 3;
    // Wide means exercise the saturated tanh and the stable softplus.
    torch::Tensor mean = (4.f * torch::randn({batch, dim})).requires_grad_(true);
    torch::Tensor raw = (2.f * torch::randn({batch, dim})).requires_grad_(true);
    const torch::Tensor noise = torch::randn({batch, dim});
    const torch::Tensor action_upstream = torch::randn({batch, dim});
    const torch::Tensor log_prob_upstream = torch::randn({batch});
    const torch::Tensor log_std = kMin + 0.5 * (kMax - kMin) * (torch::tanh(raw) + 1.0);
    const torch::Tensor u = mean + log_std.exp() * noise;
    const torch::Tensor actions = torch::tanh(u);
    const torch::Tensor log_probs = TanhGaussian(mean, log_std).log_prob_pre_tanh(u);
    ((actions * action_upstream).sum() + (log_probs * log_prob_upstream).sum()).backward();

    nn::TanhGaussianHead head(kMin, kMax);
    std::vector<float> got_actions(batch * dim), got_log_probs(batch);
    const torch::Tensor m = mean.detach().contiguous(), r = raw.detach().contiguous();
    head.sample(m.data_ptr<float>(), r.data_ptr<float>(), noise.data_ptr<float>(), batch, dim,
                got_actions.data(), got_log_probs.data());
    check_close(got_actions.data(), actions, "actions");
    check_close(got_log_probs.data(), log_probs, "log-probs");
    std::vector<float> mean_gradient(batch * dim), raw_gradient(batch * dim);
    head.backward(action_upstream.data_ptr<float>(), log_prob_upstream.data_ptr<float>(),
                  mean_gradient.data(), raw_gradient.data());
    check_close(mean_gradient.data(), mean.grad(), "mean gradient");
    check_close(raw_gradient.data(), raw.grad(), "raw log-std gradient");
    nn::TanhGaussianHead::mode(m.data_ptr<float>(), batch, dim, got_actions.data());
    check_close(got_actions.data(), torch::tanh(m), "mode");
  }
}

// SAC's Box networks with odd widths, and the same computations written with autograd.
struct SacFixture {
  static constexpr int kObservation = 5, kAction = 2;
  static constexpr float kAlpha = 0.37f;
  SacActor actor{nullptr};
  SacCritic q1{nullptr}, q2{nullptr}, q1_target{nullptr}, q2_target{nullptr};
  std::unique_ptr<SacEngine> engine;

  explicit SacFixture(const std::string& activation) {
    torch::manual_seed(5);
    SacNetworkOptions options;
    options.observation_shape = {kObservation};
    options.action_dim = kAction;
    options.torso.kind = "mlp";
    options.torso.hidden = {7, 13};
    options.torso.activation = activation;
    actor = SacActor(options);
    q1 = SacCritic(options);
    q2 = SacCritic(options);
    q1_target = SacCritic(options);
    q2_target = SacCritic(options);
    // Larger weights than the orthogonal init's zero biases give, so every path carries signal.
    for (auto* m : std::initializer_list<torch::nn::Module*>{actor.get(), q1.get(), q2.get(),
                                                             q1_target.get(), q2_target.get()}) {
      torch::NoGradGuard no_grad;
      for (auto& p : m->parameters()) p.add_(0.1 * torch::randn_like(p));
    }
    engine = std::make_unique<SacEngine>(
        SacEngine::Networks{*actor, *q1, *q2, *q1_target, *q2_target}, kObservation, kAction,
        options.log_std_min, options.log_std_max);
  }

  // {actions, log-probs} sampled with `noise` through autograd.
  std::pair<torch::Tensor, torch::Tensor> sample(const torch::Tensor& obs,
                                                 const torch::Tensor& noise) {
    const auto [mean, log_std] = actor->gaussian(obs);
    const torch::Tensor u = mean + log_std.exp() * noise;
    return {torch::tanh(u), TanhGaussian(mean, log_std).log_prob_pre_tanh(u)};
  }
};

void check_all_gradients(torch::nn::Module& module, const std::vector<torch::Tensor>& expected) {
  const auto parameters = module.parameters();
  REQUIRE(parameters.size() == expected.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    CAPTURE(i);
    check_close(parameters[i].grad(), expected[i], "parameter gradient");
  }
}

// Takes the autograd gradients of `module` and poisons them (the engine must overwrite them).
std::vector<torch::Tensor> take_gradients(torch::nn::Module& module) {
  std::vector<torch::Tensor> gradients;
  for (auto& p : module.parameters()) {
    gradients.push_back(p.grad().clone());
    p.mutable_grad().fill_(-7.f);
  }
  return gradients;
}

void check_critic_step(const std::string& activation, int batch) {
  CAPTURE(activation);
  CAPTURE(batch);
  SacFixture f(activation);
  const torch::Tensor obs = torch::randn({batch, f.kObservation});
  const torch::Tensor next_obs = torch::randn({batch, f.kObservation});
  const torch::Tensor actions = torch::rand({batch, f.kAction}) * 2 - 1;
  const torch::Tensor rewards = torch::randn({batch});
  const torch::Tensor discounts = torch::rand({batch}) * 0.99;
  const torch::Tensor noise = torch::randn({batch, f.kAction});
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    const auto [next_actions, next_log_probs] = f.sample(next_obs, noise);
    target = rewards + discounts * (torch::min(f.q1_target->q(next_obs, next_actions),
                                               f.q2_target->q(next_obs, next_actions)) -
                                    f.kAlpha * next_log_probs);
  }
  const torch::Tensor q1 = f.q1->q(obs, actions), q2 = f.q2->q(obs, actions);
  const torch::Tensor loss = (q1 - target).pow(2).mean() + (q2 - target).pow(2).mean();
  loss.backward();
  const auto q1_gradients = take_gradients(*f.q1), q2_gradients = take_gradients(*f.q2);

  double q1_mean = 0;
  const double got = f.engine->critic_gradients(
      obs.data_ptr<float>(), next_obs.data_ptr<float>(), actions.data_ptr<float>(),
      rewards.data_ptr<float>(), discounts.data_ptr<float>(), noise.data_ptr<float>(), f.kAlpha,
      batch, &q1_mean);
  CHECK(got == doctest::Approx(loss.item<double>()).epsilon(1e-4));
  CHECK(q1_mean == doctest::Approx(q1.mean().item<double>()).epsilon(1e-4));
  check_all_gradients(*f.q1, q1_gradients);
  check_all_gradients(*f.q2, q2_gradients);
}

TEST_CASE("nn engine: SAC's critic loss and critic gradients match autograd") {
  for (const char* activation : {"relu", "tanh"}) {
    for (int batch : {1, 5, 100}) check_critic_step(activation, batch);
  }
}

void check_actor_step(const std::string& activation, int batch) {
  CAPTURE(activation);
  CAPTURE(batch);
  SacFixture f(activation);
  const torch::Tensor obs = torch::randn({batch, f.kObservation});
  const torch::Tensor noise = torch::randn({batch, f.kAction});
  const auto [actions, log_probs] = f.sample(obs, noise);
  const torch::Tensor loss =
      (f.kAlpha * log_probs - torch::min(f.q1->q(obs, actions), f.q2->q(obs, actions))).mean();
  loss.backward();
  const auto actor_gradients = take_gradients(*f.actor);
  const auto q1_before = take_gradients(*f.q1);  // Poisoned: the actor step leaves them alone.

  const float* got_log_probs = nullptr;
  const double got = f.engine->actor_gradients(obs.data_ptr<float>(), noise.data_ptr<float>(),
                                               f.kAlpha, batch, &got_log_probs);
  CHECK(got == doctest::Approx(loss.item<double>()).epsilon(1e-4));
  check_close(got_log_probs, log_probs, "log-probs");
  check_all_gradients(*f.actor, actor_gradients);
  for (auto& p : f.q1->parameters()) CHECK(p.grad().eq(-7.f).all().item<bool>());

  // The alpha loss and its gradient with respect to log_alpha.
  const double target_entropy = -2.0;
  torch::Tensor log_alpha = torch::full({1}, -0.9f).requires_grad_(true);
  const torch::Tensor alpha_loss =
      -(log_alpha.exp() * (log_probs.detach() + target_entropy)).mean();
  alpha_loss.backward();
  double log_alpha_gradient = 0;
  const double got_alpha_loss =
      sac::alpha_loss(got_log_probs, batch, -0.9f, target_entropy, &log_alpha_gradient);
  CHECK(got_alpha_loss == doctest::Approx(alpha_loss.item<double>()).epsilon(1e-4));
  CHECK(log_alpha_gradient == doctest::Approx(log_alpha.grad().item<double>()).epsilon(1e-4));

  // Acting: sampled actions with the same noise, and the mode.
  std::vector<float> acted(batch * f.kAction);
  f.engine->act(obs.data_ptr<float>(), batch, noise.data_ptr<float>(), acted.data());
  check_close(acted.data(), actions, "sampled actions");
  f.engine->act(obs.data_ptr<float>(), batch, nullptr, acted.data());
  check_close(acted.data(), torch::tanh(f.actor->gaussian(obs).first), "greedy actions");
}

TEST_CASE("nn engine: SAC's actor loss, actor gradients, alpha loss and acting match autograd") {
  for (const char* activation : {"relu", "tanh"}) {
    for (int batch : {1, 5, 100}) check_actor_step(activation, batch);
  }
}

TEST_CASE("nn engine: the engine does not take discrete SAC or CNN torsos") {
  SacNetworkOptions options;
  options.observation_shape = {4};
  options.action_dim = 3;
  options.discrete = true;
  SacActor actor(options);
  SacCritic q(options);
  CHECK_FALSE(SacEngine::applies({*actor, *q, *q, *q, *q}));
  options.discrete = false;
  options.observation_shape = {2, 5, 5};
  options.torso.kind = "minatar_cnn";
  SacActor cnn_actor(options);
  options.torso.kind = "mlp";
  SacCritic box_q(options);
  CHECK_FALSE(SacEngine::applies({*cnn_actor, *box_q, *box_q, *box_q, *box_q}));
}

TEST_CASE("nn engine: one Adam step over SAC's joined critics matches torch::optim::Adam") {
  SacFixture f("relu");
  SacFixture reference("relu");  // Same seed: same weights.
  auto critics = std::make_shared<torch::nn::Module>();
  critics->register_module("q1", f.q1);
  critics->register_module("q2", f.q2);
  FlatOptimizerOptions options;
  options.lr = 1e-2;
  FlatOptimizer flat(*critics, options);
  std::vector<torch::Tensor> parameters = reference.q1->parameters();
  for (auto& p : reference.q2->parameters()) parameters.push_back(p);
  torch::optim::Adam adam(parameters, torch::optim::AdamOptions(1e-2));
  const torch::Tensor obs = torch::randn({5, 5}), actions = torch::rand({5, 2});
  for (int step = 0; step < 2; ++step) {
    flat.zero_grad();
    adam.zero_grad();
    (f.q1->q(obs, actions).sum() + f.q2->q(obs, actions).square().sum()).backward();
    (reference.q1->q(obs, actions).sum() + reference.q2->q(obs, actions).square().sum()).backward();
    flat.step(0);
    adam.step();
  }
  const auto got = critics->parameters();
  for (size_t i = 0; i < got.size(); ++i) check_close(got[i], parameters[i], "after Adam");
}

TEST_CASE("nn engine: Polyak updates blend and copy") {
  torch::manual_seed(2);
  torch::nn::Linear source(7, 13), target(7, 13);
  const torch::Tensor before = target->weight.detach().clone();
  nn::PolyakAverager averager(*source, *target);
  averager.update(0.3);
  check_close(target->weight, 0.7 * before + 0.3 * source->weight.detach(), "blend");
  averager.update(1.0);
  CHECK(torch::equal(target->bias, source->bias));
  torch::nn::Linear other(13, 7);
  CHECK_THROWS_AS(nn::PolyakAverager(*source, *other), std::invalid_argument);
}

struct Trained {
  std::string checkpoint;     // The agent's saved state, byte for byte.
  std::vector<float> greedy;  // Greedy actions at a few observations.
};

Trained train_target(const std::string& backend) {
  Experiment e = test::experiment_from(test::ac_config(
      "test/target-v0", std::string(test::kSacTarget) + "  backend: " + backend + "\n", 400, 1, 4));
  auto& agent = dynamic_cast<SacAgent&>(*e.agent);
  CHECK(agent.uses_engine() == (backend == "auto"));
  test::TempDir dir("nn_engine_" + backend);
  TrainOptions options;
  options.run_dir = dir.str();
  train(e, options);
  Trained trained;
  torch::serialize::OutputArchive archive;
  agent.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  trained.checkpoint = bytes.str();
  for (float target : {-0.7f, 0.1f, 0.5f}) {
    std::vector<uint8_t> observation(sizeof(float));
    std::memcpy(observation.data(), &target, sizeof(float));
    trained.greedy.push_back(agent.action_values(observation).values[0]);
  }
  return trained;
}

TEST_CASE("nn engine: SAC training is deterministic per seed, and both backends agree") {
  const Trained first = train_target("auto");
  const Trained second = train_target("auto");
  CHECK(first.checkpoint == second.checkpoint);
  CHECK(first.greedy == second.greedy);
  // Same seed, same noise, the same math to float rounding: the two backends stay close over
  // 200 gradient steps.
  const Trained torch_backend = train_target("torch");
  for (size_t i = 0; i < first.greedy.size(); ++i) {
    CHECK(first.greedy[i] == doctest::Approx(torch_backend.greedy[i]).epsilon(0.02));
  }
}

}  // namespace
}  // namespace rl
