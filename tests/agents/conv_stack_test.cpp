#include "agents/common/nn/conv_stack.h"

#include <torch/torch.h>

#include <algorithm>

#include "agents/common/nn/optimizer.h"
#include "agents/dqn/q_network.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

// A small non-square CNN (3 x 7 x 9 observations) so a mixed-up axis cannot go unnoticed.
QNetwork small_cnn() {
  QNetworkOptions options;
  options.observation_shape = {3, 7, 9};
  options.num_actions = 4;
  options.cnn = true;
  options.cnn_channels = 5;
  options.cnn_hidden = 11;
  return QNetwork(options);
}

// u8 observations with values 0..3, about a third nonzero (a pixel in every corner of sample 0,
// an all-zero sample 1).
torch::Tensor observations(int batch) {
  torch::Tensor raw = torch::randint(0, 9, {batch, 3, 7, 9}).clamp_min(5).sub(5).to(torch::kUInt8);
  raw[0].index_put_({torch::indexing::Slice(), 0, 0}, 3);
  raw[0].index_put_({torch::indexing::Slice(), 6, 8}, 2);
  if (batch > 1) raw[1].zero_();
  return raw.contiguous();
}

nn::ConvQLayers layers_of(const QNetworkImpl& network) {
  return {network.conv(), network.cnn_hidden(), network.head()};
}

// Each element within 1e-4 relative, plus 1e-4 * `scale` absolute (sums of many terms of
// mixed signs can be much smaller than their terms: pass the tensor's largest magnitude).
void check_close(const float* actual, const torch::Tensor& expected, float scale = 1e-3f) {
  const torch::Tensor flat = expected.contiguous().reshape({-1});
  for (int64_t i = 0; i < flat.numel(); ++i) {
    CAPTURE(i);
    CHECK(actual[i] == doctest::Approx(flat[i].item<float>()).epsilon(1e-4).scale(scale));
  }
}

TEST_CASE("conv_stack: forward matches the LibTorch module") {
  torch::manual_seed(3);
  QNetwork network = small_cnn();
  nn::ConvStack fast(layers_of(*network), network->observation_shape(), 0.5f);
  for (int batch : {1, 6, 3}) {  // Growing, then shrinking: the buffers are reused.
    CAPTURE(batch);
    const torch::Tensor raw = observations(batch);
    torch::Tensor expected;
    {
      torch::NoGradGuard no_grad;
      expected = network->forward(raw.to(torch::kFloat32) * 0.5);
    }
    std::vector<float> q(batch * 4);
    fast.forward(layers_of(*network), raw.data_ptr<uint8_t>(), batch, q.data());
    check_close(q.data(), expected);
  }
}

// The TD loss's value and gradient against LibTorch autograd on the same batch.
void check_gradient(bool huber, bool weighted) {
  CAPTURE(huber);
  CAPTURE(weighted);
  torch::manual_seed(11);
  QNetwork network = small_cnn();
  FlatOptimizer optimizer(*network, {});  // Gives every parameter a contiguous .grad().
  nn::ConvStack fast(layers_of(*network), network->observation_shape(), 1.f);
  const int batch = 8;
  const torch::Tensor raw = observations(batch);
  const torch::Tensor actions = torch::randint(0, 4, {batch}, torch::kInt64);
  // Targets 0.3 and 3 away from Q(s, a): both sides of the Huber loss's kink.
  torch::Tensor q_taken;
  {
    torch::NoGradGuard no_grad;
    q_taken = network->forward(raw.to(torch::kFloat32)).gather(1, actions.unsqueeze(1)).squeeze(1);
  }
  const torch::Tensor offsets = torch::tensor({0.3f, -3.f, 3.f, -0.3f, 0.f, 1.5f, -0.9f, 2.f});
  const torch::Tensor targets = (q_taken + offsets).contiguous();
  const torch::Tensor weights = weighted ? torch::rand({batch}) + 0.5 : torch::ones({batch});

  optimizer.zero_grad();
  const torch::Tensor q =
      network->forward(raw.to(torch::kFloat32)).gather(1, actions.unsqueeze(1)).squeeze(1);
  const torch::Tensor elementwise =
      huber ? torch::smooth_l1_loss(q, targets, at::Reduction::None) : (q - targets).pow(2);
  const torch::Tensor loss = (elementwise * weights).mean();
  loss.backward();
  std::vector<torch::Tensor> expected;
  for (const auto& p : network->parameters()) expected.push_back(p.grad().clone());

  optimizer.zero_grad();
  for (const auto& p : network->parameters()) p.grad().fill_(7.f);  // Must be overwritten.
  TdBatch td;
  td.size = batch;
  td.observations = raw.data_ptr<uint8_t>();
  td.actions = actions.data_ptr<int64_t>();
  td.targets = targets.data_ptr<float>();
  const torch::Tensor weights_copy = weights.contiguous();
  td.weights = weighted ? weights_copy.data_ptr<float>() : nullptr;
  td.huber = huber;
  std::vector<float> abs_errors(batch);
  const TdLoss result = fast.td_gradient(layers_of(*network), td, abs_errors.data());

  CHECK(result.loss == doctest::Approx(loss.item<double>()).epsilon(1e-4));
  CHECK(result.q_mean == doctest::Approx(q.mean().item<double>()).epsilon(1e-4));
  check_close(abs_errors.data(), (q - targets).abs().detach());
  const auto parameters = network->parameters();
  for (size_t i = 0; i < parameters.size(); ++i) {
    CAPTURE(i);
    CHECK(expected[i].abs().sum().item<float>() > 0);  // Every layer gets some gradient.
    check_close(parameters[i].grad().data_ptr<float>(), expected[i]);
  }
}

TEST_CASE("conv_stack: Huber TD gradient matches LibTorch autograd") {
  check_gradient(true, false);
}
TEST_CASE("conv_stack: squared-error TD gradient matches LibTorch autograd") {
  check_gradient(false, false);
}
TEST_CASE("conv_stack: importance-weighted TD gradient matches LibTorch autograd") {
  check_gradient(true, true);
}

nn::ConvTorsoLayers torso_of(const QNetworkImpl& network) {
  return {network.conv(), network.cnn_hidden()};
}

// The torso alone (what the Q head and the actor-critic heads sit on): its features and, from
// an arbitrary gradient with respect to them, every conv and hidden parameter gradient against
// autograd, on u8 and float inputs and batch sizes that are not multiples of any vector width.
TEST_CASE("conv_torso: features and every parameter gradient match LibTorch autograd") {
  torch::manual_seed(5);
  QNetwork network = small_cnn();
  FlatOptimizer optimizer(*network, {});  // Gives every parameter a contiguous .grad().
  const float scale = 0.75f;
  nn::ConvTorso torso(torso_of(*network), network->observation_shape(), scale);
  CHECK(torso.hidden_units() == 11);
  for (int batch : {1, 33, 5}) {
    for (bool float_input : {false, true}) {
      CAPTURE(batch);
      CAPTURE(float_input);
      const torch::Tensor raw = observations(batch);
      const torch::Tensor input = raw.to(torch::kFloat32) * scale;
      optimizer.zero_grad();
      torch::nn::Conv2d conv = network->conv();
      torch::nn::Linear hidden = network->cnn_hidden();
      const torch::Tensor features =
          torch::relu(hidden->forward(torch::relu(conv->forward(input)).flatten(1)));
      const torch::Tensor upstream = torch::randn({batch, 11});
      (features * upstream).sum().backward();
      std::vector<torch::Tensor> expected;
      for (const auto& p : {network->conv()->weight, network->conv()->bias,
                            network->cnn_hidden()->weight, network->cnn_hidden()->bias}) {
        expected.push_back(p.grad().clone());
        p.grad().fill_(7.f);  // Must be overwritten.
      }
      // The torso takes already-scaled floats with a scale of 1.
      nn::ConvTorso float_torso(torso_of(*network), network->observation_shape(), 1.f);
      nn::ConvTorso& used = float_input ? float_torso : torso;
      const float* features_t =
          float_input
              ? used.forward(torso_of(*network), input.contiguous().data_ptr<float>(), batch)
              : used.forward(torso_of(*network), raw.data_ptr<uint8_t>(), batch);
      check_close(features_t, features.detach().t());  // [hidden, batch]
      const torch::Tensor upstream_t = upstream.t().contiguous();
      std::copy_n(upstream_t.data_ptr<float>(), batch * 11, used.hidden_gradient());
      used.backward(torso_of(*network), batch);
      const std::vector<torch::Tensor> actual = {
          network->conv()->weight.grad(), network->conv()->bias.grad(),
          network->cnn_hidden()->weight.grad(), network->cnn_hidden()->bias.grad()};
      for (size_t i = 0; i < actual.size(); ++i) {
        CAPTURE(i);
        CHECK(expected[i].abs().sum().item<float>() > 0);
        check_close(actual[i].data_ptr<float>(), expected[i],
                    expected[i].abs().max().item<float>());
      }
    }
  }
}

TEST_CASE("conv_torso: refuses layers it does not compute and shapes that do not fit") {
  QNetwork network = small_cnn();
  CHECK(nn::ConvTorso::supports(torso_of(*network)));
  CHECK_FALSE(nn::ConvTorso::supports({network->conv(), nullptr}));
  CHECK_THROWS_WITH_AS(nn::ConvTorso(torso_of(*network), {2, 7, 9}, 1.f),
                       doctest::Contains("do not fit the observations"), std::invalid_argument);
  CHECK_THROWS_AS(nn::ConvTorso(torso_of(*network), {3, 7}, 1.f), std::invalid_argument);
  torch::nn::Conv2d strided(torch::nn::Conv2dOptions(3, 5, 3).stride(2));
  CHECK_FALSE(nn::ConvTorso::supports({strided, network->cnn_hidden()}));
  torch::nn::Conv2d padded(torch::nn::Conv2dOptions(3, 5, 3).padding(1));
  CHECK_FALSE(nn::ConvTorso::supports({padded, network->cnn_hidden()}));
  torch::nn::Conv2d wide(torch::nn::Conv2dOptions(3, 5, 5));
  CHECK_FALSE(nn::ConvTorso::supports({wide, network->cnn_hidden()}));
}

TEST_CASE("conv_stack: refuses MLP and dueling networks, and out-of-range actions") {
  QNetworkOptions mlp;
  mlp.observation_shape = {4};
  mlp.num_actions = 2;
  CHECK_FALSE(nn::ConvStack::supports(layers_of(*QNetwork(mlp))));
  CHECK_THROWS_AS(nn::ConvStack(layers_of(*QNetwork(mlp)), {4}, 1.f), std::invalid_argument);
  QNetworkOptions dueling;
  dueling.observation_shape = {2, 5, 5};
  dueling.num_actions = 3;
  dueling.cnn = true;
  dueling.dueling = true;
  CHECK_THROWS_AS(nn::ConvStack(layers_of(*QNetwork(dueling)), {2, 4, 4}, 1.f),
                  std::invalid_argument);  // The hidden layer does not fit 4x4 inputs.

  QNetwork network = small_cnn();
  FlatOptimizer optimizer(*network, {});
  nn::ConvStack fast(layers_of(*network), network->observation_shape(), 1.f);
  const torch::Tensor raw = observations(2);
  const int64_t actions[2] = {0, 4};
  const float targets[2] = {0.f, 0.f};
  TdBatch td;
  td.size = 2;
  td.observations = raw.data_ptr<uint8_t>();
  td.actions = actions;
  td.targets = targets;
  CHECK_THROWS_WITH_AS(fast.td_gradient(layers_of(*network), td, nullptr),
                       doctest::Contains("action 4"), std::out_of_range);
  // td_backward() only after prepare_gradient() on a batch of the same size.
  const int64_t legal_actions[2] = {0, 3};
  td.actions = legal_actions;
  CHECK_THROWS_AS(fast.td_backward(layers_of(*network), td, nullptr), std::logic_error);
  fast.prepare_gradient(layers_of(*network), td.observations, 1);
  CHECK_THROWS_AS(fast.td_backward(layers_of(*network), td, nullptr), std::logic_error);
  fast.prepare_gradient(layers_of(*network), td.observations, 2);
  CHECK_NOTHROW(fast.td_backward(layers_of(*network), td, nullptr));
}

}  // namespace
}  // namespace rl
