// The DQN Q-network: an MLP or a MinAtar-style CNN torso, then a plain or dueling head.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rl {

struct QNetworkOptions {
  std::vector<int64_t> observation_shape;  // Without the batch dimension.
  int64_t num_actions = 0;
  bool cnn = false;  // CNN torso for [C, H, W] observations, else MLP on the flattened input.
  std::vector<int64_t> hidden = {120, 84};  // MLP torso layers.
  int64_t cnn_channels = 16;                // CNN: 3x3 stride-1 conv channels.
  int64_t cnn_hidden = 128;                 // CNN: fully connected layer after the conv.
  bool dueling = false;
};

class QNetworkImpl : public torch::nn::Module {
 public:
  explicit QNetworkImpl(const QNetworkOptions& options);
  // [B, observation_shape...] float -> [B, num_actions] Q-values.
  torch::Tensor forward(torch::Tensor observations);
  // Human-readable architecture, e.g. "mlp 4-120-84-2 dueling"; stored in checkpoints to
  // reject loading weights into a different network.
  const std::string& signature() const { return signature_; }
  const std::vector<int64_t>& observation_shape() const { return observation_shape_; }

  // Layer access for the engine (agents/dqn/q_compute.cpp).
  bool is_mlp() const { return flatten_input_; }
  const std::vector<torch::nn::Linear>& torso_linears() const { return torso_linears_; }
  const torch::nn::Linear& head() const { return head_; }
  const torch::nn::Linear& value() const { return value_; }
  // The CNN torso's convolution and hidden layer (null for an MLP).
  const torch::nn::Conv2d& conv() const { return conv_; }
  const torch::nn::Linear& cnn_hidden() const { return cnn_hidden_; }

 private:
  std::vector<torch::nn::Linear> torso_linears_;  // MLP torso layers, in order.
  torch::nn::Conv2d conv_{nullptr};               // CNN torso only.
  torch::nn::Linear cnn_hidden_{nullptr};         // CNN torso only.
  torch::nn::Sequential torso_{nullptr};
  torch::nn::Linear head_{nullptr};   // Q (plain) or advantages (dueling).
  torch::nn::Linear value_{nullptr};  // Dueling only.
  bool flatten_input_ = true;
  std::vector<int64_t> observation_shape_;
  std::string signature_;
};
TORCH_MODULE(QNetwork);

}  // namespace rl
