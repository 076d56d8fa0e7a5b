// The BLAS recurrent layer behind RecurrentCore::sequence (agents/common/nn/recurrent_layer.h)
// against LibTorch's own LSTM and GRU modules run step by step with autograd: outputs, the
// gradient of the input and of every parameter, on odd sizes, two layers and per-step resets.
#include "agents/common/nn/recurrent_layer.h"

#include <torch/torch.h>

#include <string>
#include <vector>

#include "agents/common/recurrent_core.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

// The reference: the core's step() (torch's module) over the steps, zeroing state at starts.
torch::Tensor stepwise_sequence(RecurrentCore& core, const torch::Tensor& features,
                                const torch::Tensor& state, const torch::Tensor& starts) {
  std::vector<torch::Tensor> outputs;
  torch::Tensor current = state;
  for (int64_t t = 0; t < features.size(0); ++t) {
    torch::Tensor next;
    outputs.push_back(core->step(features[t], current * (1.0 - starts[t]).unsqueeze(1), next));
    current = next;
  }
  return torch::stack(outputs);
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Two stacked layers of `hidden` units.
RecurrentOptions two_layers(const std::string& type, int64_t hidden, bool critic) {
  RecurrentOptions options;
  options.type = type;
  options.hidden = hidden;
  options.layers = 2;
  options.critic = critic;
  return options;
}

void check_against_torch(const std::string& type, bool critic = false) {
  torch::manual_seed(7);
  const int64_t steps = 6, batch = 3, input = 5;
  RecurrentCore core(two_layers(type, 7, critic), input);
  // Non-zero biases so that their gradients are tested in general position.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : core->parameters()) p.add_(torch::randn_like(p) * 0.3);
  }
  const torch::Tensor features = torch::randn({steps, batch, input}).requires_grad_(true);
  const torch::Tensor state = torch::randn({batch, core->state_size()});
  // Row 0 restarts at step 2, row 1 at steps 0 and 4, row 2 never.
  torch::Tensor starts = torch::zeros({steps, batch});
  starts[2][0] = 1;
  starts[0][1] = 1;
  starts[4][1] = 1;
  // A loss that weighs every output differently.
  const torch::Tensor weights = torch::randn({steps, batch, core->output_features()});

  const torch::Tensor expected = stepwise_sequence(core, features, state, starts);
  (expected * weights).sum().backward();
  std::vector<torch::Tensor> expected_grads;
  for (auto& p : core->parameters()) expected_grads.push_back(p.grad().clone());
  const torch::Tensor expected_input_grad = features.grad().clone();
  core->zero_grad();
  features.grad().zero_();

  const torch::Tensor actual = core->sequence(features, state, starts);
  CHECK(max_difference(actual, expected) < 1e-5);
  (actual * weights).sum().backward();
  CHECK(max_difference(features.grad(), expected_input_grad) < 1e-4);
  const auto named = core->named_parameters();
  REQUIRE(named.size() == expected_grads.size());
  for (size_t i = 0; i < named.size(); ++i) {
    INFO(type << " parameter " << named[i].key());
    REQUIRE(named[i].value().grad().defined());
    CHECK(max_difference(named[i].value().grad(), expected_grads[i]) < 1e-4);
  }
}

TEST_CASE("recurrent layer: LSTM sequence matches torch step by step, outputs and gradients") {
  check_against_torch("lstm");
}

TEST_CASE("recurrent layer: GRU sequence matches torch step by step, outputs and gradients") {
  check_against_torch("gru");
}

TEST_CASE("recurrent layer: a separate critic memory matches torch step by step too") {
  check_against_torch("lstm", /*critic=*/true);
  check_against_torch("gru", /*critic=*/true);
}

// Acting (no gradients) steps the core on the BLAS layer; with gradients on, torch's module.
void check_acting_step(const std::string& type, bool critic) {
  torch::manual_seed(11);
  RecurrentCore core(two_layers(type, 6, critic), 4);
  const torch::Tensor features = torch::randn({3, 4});
  const torch::Tensor state = torch::randn({3, core->state_size()});
  torch::Tensor torch_next, blas_next;
  const torch::Tensor expected = core->step(features, state, torch_next).detach();
  torch::Tensor actual;
  {
    torch::NoGradGuard no_grad;
    actual = core->step(features, state, blas_next);
  }
  INFO(type << (critic ? " with critic" : ""));
  CHECK(max_difference(actual, expected) < 1e-5);
  REQUIRE(blas_next.sizes() == torch_next.sizes());
  CHECK(max_difference(blas_next, torch_next.detach()) < 1e-5);
}

TEST_CASE("recurrent layer: an acting step on BLAS matches torch's module, output and state") {
  check_acting_step("lstm", false);
  check_acting_step("gru", false);
  check_acting_step("lstm", true);
}

TEST_CASE("recurrent layer: a reset at every step makes each output depend on its step only") {
  torch::manual_seed(3);
  RecurrentOptions options;
  options.type = "lstm";
  options.hidden = 4;
  RecurrentCore core(options, 3);
  const torch::Tensor features = torch::randn({5, 2, 3});
  const torch::Tensor state = torch::randn({2, core->state_size()});
  const torch::Tensor outputs = core->sequence(features, state, torch::ones({5, 2}));
  for (int64_t t = 0; t < 5; ++t) {
    torch::Tensor next;
    const torch::Tensor alone =
        core->step(features[t], torch::zeros({2, core->state_size()}), next);
    CHECK(max_difference(outputs[t], alone) < 1e-6);
  }
}

TEST_CASE("recurrent layer: non-positive sizes are refused") {
  CHECK_THROWS_AS(nn::RecurrentLayer(nn::RecurrentLayer::Cell::kLstm, 0, 4), std::invalid_argument);
}

}  // namespace
}  // namespace rl
