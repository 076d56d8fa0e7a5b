// DQN on the small-network engine (agents/common/nn) against LibTorch autograd: Q-values, the
// TD loss (Huber, squared, importance-weighted) and every parameter gradient of MLP Q-networks
// with plain and dueling heads, on odd widths and batches.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "agents/common/nn/optimizer.h"
#include "agents/common/nn/q_heads.h"
#include "agents/common/preprocess.h"
#include "agents/dqn/q_compute.h"
#include "agents/dqn/q_network.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

constexpr int64_t kActions = 5;

// Every element of `actual` is within 2e-5 * (1 + max |expected|).
void check_close(const float* actual, const torch::Tensor& expected_tensor) {
  const torch::Tensor expected = expected_tensor.detach().contiguous().reshape({-1});
  const float* e = expected.data_ptr<float>();
  float scale = 1.f, worst = 0.f;
  for (int64_t i = 0; i < expected.numel(); ++i) scale = std::max(scale, std::abs(e[i]));
  for (int64_t i = 0; i < expected.numel(); ++i) {
    worst = std::max(worst, std::abs(actual[i] - e[i]));
  }
  CHECK(worst <= 2e-5f * scale);
}

struct Case {
  std::vector<int64_t> hidden;
  bool dueling = false;
  bool huber = true;
  bool weighted = false;
};

void check_engine_matches_autograd(const Case& c) {
  CAPTURE(c.hidden.size());
  CAPTURE(c.dueling);
  CAPTURE(c.huber);
  CAPTURE(c.weighted);
  torch::manual_seed(5);
  QNetworkOptions options;
  options.observation_shape = {7};
  options.num_actions = kActions;
  options.hidden = c.hidden;
  options.dueling = c.dueling;
  QNetwork network(options);
  FlatOptimizer optimizer(*network, {});  // Gives every parameter a contiguous .grad().
  const Space space = Space::box({7}, -3.f, 3.f, DType::kF32);
  const ObservationInput input(space, 1.0);
  REQUIRE(engine_applies(*network, space));
  const auto engine = make_q_compute(*network, space, input, /*use_engine=*/true);
  CHECK(engine->backend() == "engine");

  const int batch = 9;
  const torch::Tensor observations = torch::randn({batch, 7}).contiguous();
  const auto* raw = reinterpret_cast<const uint8_t*>(observations.data_ptr<float>());
  std::vector<float> q(batch * kActions);
  engine->q_values(*network, raw, batch, q.data());
  torch::Tensor expected_q;
  {
    torch::NoGradGuard no_grad;
    expected_q = network->forward(observations);
  }
  check_close(q.data(), expected_q);

  const torch::Tensor actions = torch::randint(0, kActions, {batch}, torch::kInt64);
  // Targets on both sides of the Huber loss's kink.
  const torch::Tensor offsets =
      torch::tensor({0.3f, -3.f, 3.f, -0.3f, 0.f, 1.5f, -0.9f, 2.f, -1.2f});
  const torch::Tensor targets =
      (expected_q.gather(1, actions.unsqueeze(1)).squeeze(1) + offsets).contiguous();
  const torch::Tensor weights =
      (c.weighted ? torch::rand({batch}) + 0.5 : torch::ones({batch})).contiguous();

  optimizer.zero_grad();
  const torch::Tensor q_taken = network->forward(observations).gather(1, actions.unsqueeze(1));
  const torch::Tensor error = q_taken.squeeze(1) - targets;
  const torch::Tensor elementwise =
      c.huber ? torch::smooth_l1_loss(q_taken.squeeze(1), targets, at::Reduction::None)
              : error.pow(2);
  const torch::Tensor loss = (elementwise * weights).mean();
  loss.backward();
  std::vector<torch::Tensor> expected;
  for (const auto& p : network->parameters()) expected.push_back(p.grad().clone());

  for (const auto& p : network->parameters()) p.grad().fill_(7.f);  // Must be overwritten.
  TdBatch td;
  td.size = batch;
  td.observations = raw;
  td.actions = actions.data_ptr<int64_t>();
  td.targets = targets.data_ptr<float>();
  td.weights = c.weighted ? weights.data_ptr<float>() : nullptr;
  td.huber = c.huber;
  std::vector<float> abs_errors(batch);
  engine->forward_for_gradient(*network, raw, batch);
  const TdLoss result = engine->td_gradient(*network, td, abs_errors.data());
  CHECK(result.loss == doctest::Approx(loss.item<double>()).epsilon(1e-5));
  CHECK(result.q_mean == doctest::Approx(q_taken.mean().item<double>()).epsilon(1e-5));
  check_close(abs_errors.data(), error.abs());
  const auto parameters = network->parameters();
  for (size_t i = 0; i < parameters.size(); ++i) {
    CAPTURE(i);
    CHECK(expected[i].abs().sum().item<float>() > 0);  // Every layer gets some gradient.
    check_close(parameters[i].grad().data_ptr<float>(), expected[i]);
  }
}

TEST_CASE("dqn engine: MLP Q-network, Huber loss, matches autograd") {
  check_engine_matches_autograd({.hidden = {13, 6}});
}
TEST_CASE("dqn engine: MLP Q-network, squared, importance-weighted, matches autograd") {
  check_engine_matches_autograd({.hidden = {11}, .huber = false, .weighted = true});
}
TEST_CASE("dqn engine: dueling MLP Q-network matches autograd") {
  check_engine_matches_autograd({.hidden = {13, 6}, .dueling = true, .weighted = true});
}
TEST_CASE("q heads: an action outside the head is an error naming the row") {
  const float q[4] = {1, 2, 3, 4};
  const int64_t actions[2] = {1, 2};
  const float targets[2] = {0, 0};
  float dq[4];
  TdBatch td;
  td.size = 2;
  td.actions = actions;
  td.targets = targets;
  CHECK_THROWS_WITH_AS(nn::td_loss_gradient(q, 2, td, dq, nullptr), doctest::Contains("row 1"),
                       std::out_of_range);
}

TEST_CASE("dqn engine: backend torch and networks the engine lacks use LibTorch") {
  QNetworkOptions options;
  options.observation_shape = {2, 5, 5};
  options.num_actions = 3;
  options.cnn = true;
  options.dueling = true;  // ConvStack has no dueling head.
  QNetwork cnn(options);
  const Space images = Space::box({2, 5, 5}, 0.f, 1.f, DType::kU8);
  const ObservationInput input(images, 0.0);
  CHECK_FALSE(engine_applies(*cnn, images));
  CHECK(make_q_compute(*cnn, images, input, true)->backend() == "torch");
  options.dueling = false;
  QNetwork plain(options);
  CHECK(make_q_compute(*plain, images, input, true)->backend() == "engine");
  CHECK(make_q_compute(*plain, images, input, false)->backend() == "torch");
}

}  // namespace
}  // namespace rl
