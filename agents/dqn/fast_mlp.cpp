#include "agents/dqn/fast_mlp.h"

#include <algorithm>
#include <stdexcept>

namespace rl {

FastMlp::Layer FastMlp::copy_layer(const torch::nn::Linear& linear) {
  torch::NoGradGuard no_grad;
  const torch::Tensor weight = linear->weight.detach().t().contiguous();  // [in, out]
  const torch::Tensor bias = linear->bias.detach().contiguous();
  Layer layer;
  layer.in = weight.size(0);
  layer.out = weight.size(1);
  layer.weight_t.assign(weight.data_ptr<float>(), weight.data_ptr<float>() + weight.numel());
  layer.bias.assign(bias.data_ptr<float>(), bias.data_ptr<float>() + bias.numel());
  return layer;
}

void FastMlp::refresh(QNetworkImpl& network) {
  if (!network.is_mlp()) throw std::logic_error("FastMlp needs an MLP Q-network");
  layers_.clear();
  for (const torch::nn::Linear& linear : network.torso_linears()) {
    layers_.push_back(copy_layer(linear));
  }
  layers_.push_back(copy_layer(network.head()));
  dueling_ = static_cast<bool>(network.value());
  if (dueling_) value_ = copy_layer(network.value());
  int64_t widest = 0;
  for (const Layer& layer : layers_) widest = std::max({widest, layer.in, layer.out});
  a_.resize(widest);
  b_.resize(widest);
}

void FastMlp::apply(const Layer& layer, const float* x, float* y, bool relu) {
  std::copy(layer.bias.begin(), layer.bias.end(), y);
  for (int64_t i = 0; i < layer.in; ++i) {
    const float xi = x[i];
    if (xi == 0.f) continue;  // Common after ReLU and for one-hot inputs.
    const float* w = layer.weight_t.data() + i * layer.out;
    for (int64_t o = 0; o < layer.out; ++o) y[o] += w[o] * xi;  // Vectorizes: contiguous axpy.
  }
  if (relu) {
    for (int64_t o = 0; o < layer.out; ++o) y[o] = std::max(y[o], 0.f);
  }
}

void FastMlp::forward(const float* observations, int batch, float* q) {
  const Layer& head = layers_.back();
  const int64_t actions = head.out;
  for (int row = 0; row < batch; ++row) {
    const float* x = observations + row * input_size();
    for (size_t l = 0; l + 1 < layers_.size(); ++l) {
      float* out = (l % 2 == 0) ? a_.data() : b_.data();
      apply(layers_[l], x, out, /*relu=*/true);
      x = out;
    }
    float* q_row = q + row * actions;
    apply(head, x, q_row, /*relu=*/false);
    if (dueling_) {
      float value = 0.f;
      apply(value_, x, &value, /*relu=*/false);
      float mean = 0.f;
      for (int64_t a = 0; a < actions; ++a) mean += q_row[a];
      mean /= static_cast<float>(actions);
      for (int64_t a = 0; a < actions; ++a) q_row[a] += value - mean;
    }
  }
}

}  // namespace rl
