#include "agents/dqn/q_network.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <stdexcept>

#include "agents/common/torso.h"

namespace rl {

QNetworkImpl::QNetworkImpl(const QNetworkOptions& options)
    : observation_shape_(options.observation_shape) {
  if (options.num_actions <= 0) throw std::invalid_argument("QNetwork needs at least one action");
  torso_ = torch::nn::Sequential();
  int64_t features = 0;
  if (options.cnn) {
    const auto& shape = options.observation_shape;
    if (shape.size() != 3 || shape[1] < 3 || shape[2] < 3) {
      throw std::invalid_argument(
          "the CNN torso needs [channels, height, width] observations of at least 3x3");
    }
    conv_ =
        torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], options.cnn_channels, 3).stride(1));
    torso_->push_back(conv_);
    torso_->push_back(torch::nn::ReLU());
    torso_->push_back(torch::nn::Flatten());
    const int64_t conv_out = options.cnn_channels * (shape[1] - 2) * (shape[2] - 2);
    cnn_hidden_ = torch::nn::Linear(conv_out, options.cnn_hidden);
    torso_->push_back(cnn_hidden_);
    torso_->push_back(torch::nn::ReLU());
    features = options.cnn_hidden;
    flatten_input_ = false;
    signature_ = "cnn " + std::to_string(shape[0]) + "x" + std::to_string(shape[1]) + "x" +
                 std::to_string(shape[2]) + " conv" + std::to_string(options.cnn_channels) + " fc" +
                 std::to_string(options.cnn_hidden);
  } else {
    features = shape_product(options.observation_shape);
    signature_ = "mlp " + std::to_string(features);
    for (int64_t units : options.hidden) {
      torso_linears_.push_back(torch::nn::Linear(features, units));
      torso_->push_back(torso_linears_.back());
      torso_->push_back(torch::nn::ReLU());
      features = units;
      signature_ += '-';
      signature_ += std::to_string(units);
    }
  }
  register_module("torso", torso_);
  head_ = register_module("head", torch::nn::Linear(features, options.num_actions));
  if (options.dueling) value_ = register_module("value", torch::nn::Linear(features, 1));
  signature_ += " -> " + std::to_string(options.num_actions) + " actions";
  if (options.dueling) signature_ += " (dueling)";
}

torch::Tensor QNetworkImpl::forward(torch::Tensor observations) {
  if (flatten_input_) observations = observations.flatten(1);
  const torch::Tensor features = torso_->forward(observations);
  torch::Tensor q = head_->forward(features);
  if (value_) q = value_->forward(features) + q - q.mean(1, /*keepdim=*/true);
  return q;
}

}  // namespace rl
