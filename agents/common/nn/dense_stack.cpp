#include "agents/common/nn/dense_stack.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "agents/common/nn/blas.h"
#include "agents/common/nn/fast_math.h"
#include "agents/vector_clones.h"

namespace rl::nn {

namespace {

float* values(const torch::Tensor& t) { return t.data_ptr<float>(); }

// The gradient buffer of `parameter`, created (zero) when it has none yet.
float* gradient_buffer(const torch::Tensor& parameter) {
  torch::Tensor& grad = const_cast<torch::Tensor&>(parameter).mutable_grad();
  if (!grad.defined()) grad = torch::zeros_like(parameter);
  return grad.data_ptr<float>();
}

// Lanes of the blocks that the element-wise loops below take whole when a layer's width is a
// multiple of it: a trip count known at compile time lets GCC use full vectors without masks
// (25% off the bias + tanh pass at width 32). The arithmetic per element is the same.
constexpr int64_t kLanes = 16;

// y[r, :] = activation(y[r, :] + bias) for every row.
RLCADE_VECTOR_CLONES
void add_bias_activate(float* __restrict y, const float* __restrict bias, int rows, int64_t width,
                       Activation activation) {
  if (activation == Activation::kTanh && width % kLanes == 0) {
    for (int r = 0; r < rows; ++r) {
      float* row = y + r * width;
      for (int64_t o0 = 0; o0 < width; o0 += kLanes) {
        for (int64_t o = o0; o < o0 + kLanes; ++o) row[o] = rational_tanh(row[o] + bias[o]);
      }
    }
    return;
  }
  for (int r = 0; r < rows; ++r) {
    float* row = y + r * width;
    switch (activation) {
      case Activation::kNone:
        for (int64_t o = 0; o < width; ++o) row[o] += bias[o];
        break;
      case Activation::kRelu:
        for (int64_t o = 0; o < width; ++o) row[o] = std::max(row[o] + bias[o], 0.f);
        break;
      case Activation::kTanh:
        for (int64_t o = 0; o < width; ++o) row[o] = rational_tanh(row[o] + bias[o]);
        break;
    }
  }
}

// g *= activation'(pre-activation), written with the activated output y.
RLCADE_VECTOR_CLONES
void activation_backward(float* __restrict g, const float* __restrict y, int64_t n,
                         Activation activation) {
  if (activation == Activation::kRelu) {
    for (int64_t i = 0; i < n; ++i) g[i] = y[i] > 0.f ? g[i] : 0.f;
  } else if (activation == Activation::kTanh) {
    for (int64_t i = 0; i < n; ++i) g[i] *= 1.f - y[i] * y[i];
  }
}

// activation_backward() on g [rows, width], and the column sums of the result (the bias
// gradient: sums[o] = sum over rows of g[r, o], in row order) in the same pass over g.
RLCADE_VECTOR_CLONES
void activation_backward_column_sums(float* __restrict g, const float* __restrict y, int rows,
                                     int64_t width, Activation activation, float* __restrict sums) {
  if (width % kLanes == 0 && activation == Activation::kTanh) {
    // A block of columns at a time, down the rows, with its sums in a register instead of
    // memory: the same additions in the same order.
    for (int64_t o0 = 0; o0 < width; o0 += kLanes) {
      float block_sums[kLanes] = {};
      for (int r = 0; r < rows; ++r) {
        float* row = g + r * width + o0;
        const float* yr = y + r * width + o0;
        for (int64_t l = 0; l < kLanes; ++l) {
          row[l] *= 1.f - yr[l] * yr[l];
          block_sums[l] += row[l];
        }
      }
      std::copy_n(block_sums, kLanes, sums + o0);
    }
    return;
  }
  std::fill(sums, sums + width, 0.f);
  for (int r = 0; r < rows; ++r) {
    float* row = g + r * width;
    const float* yr = y + r * width;
    if (activation == Activation::kRelu) {
      for (int64_t o = 0; o < width; ++o) row[o] = yr[o] > 0.f ? row[o] : 0.f;
    } else if (activation == Activation::kTanh) {
      for (int64_t o = 0; o < width; ++o) row[o] *= 1.f - yr[o] * yr[o];
    }
    for (int64_t o = 0; o < width; ++o) sums[o] += row[o];
  }
}

// y[r, o] = x[r, :] . w[o, :] for every row r and output o (w is [out, in] row-major), with
// eight partial sums so the loop vectorizes without reassociating a single sum.
RLCADE_VECTOR_CLONES
void row_dot_products(const float* __restrict x, int rows, int in, const float* __restrict w,
                      int out, float* __restrict y) {
  constexpr int kLanes = 8;
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<int64_t>(r) * in;
    for (int o = 0; o < out; ++o) {
      const float* wo = w + static_cast<int64_t>(o) * in;
      float partial[kLanes] = {};
      int i = 0;
      for (; i + kLanes <= in; i += kLanes) {
        for (int lane = 0; lane < kLanes; ++lane) partial[lane] += xr[i + lane] * wo[i + lane];
      }
      float sum = 0.f;
      for (int lane = 0; lane < kLanes; ++lane) sum += partial[lane];
      for (; i < in; ++i) sum += xr[i] * wo[i];
      y[static_cast<int64_t>(r) * out + o] = sum;
    }
  }
}

}  // namespace

DenseStack::DenseStack(std::vector<torch::nn::Linear> layers, Activation hidden_activation,
                       Activation output_activation)
    : layers_(std::move(layers)),
      hidden_activation_(hidden_activation),
      output_activation_(output_activation) {
  if (layers_.empty()) throw std::invalid_argument("a dense stack needs at least one layer");
  widths_.push_back(layers_.front()->weight.size(1));
  for (size_t i = 0; i < layers_.size(); ++i) {
    const torch::Tensor& w = layers_[i]->weight;
    if (w.size(1) != widths_.back()) {
      throw std::invalid_argument("dense stack: layer " + std::to_string(i) + " takes " +
                                  std::to_string(w.size(1)) + " inputs, the layer before gives " +
                                  std::to_string(widths_.back()));
    }
    if (!layers_[i]->bias.defined()) {
      throw std::invalid_argument("dense stack: layer " + std::to_string(i) + " has no bias");
    }
    widths_.push_back(w.size(0));
  }
  outputs_.resize(layers_.size());
  gradients_.resize(layers_.size());
}

Activation DenseStack::activation_after(size_t layer) const {
  return layer + 1 == layers_.size() ? output_activation_ : hidden_activation_;
}

void DenseStack::reserve(int batch) {
  if (batch <= capacity_) return;
  capacity_ = batch;
  for (size_t i = 0; i < layers_.size(); ++i) {
    outputs_[i].resize(static_cast<size_t>(batch * widths_[i + 1]));
    gradients_[i].resize(static_cast<size_t>(batch * widths_[i]));
  }
}

const float* DenseStack::forward(const float* input, int batch) {
  return forward_with(input, batch, /*by_rows=*/false);
}

const float* DenseStack::forward_rows(const float* input, int batch) {
  return forward_with(input, batch, /*by_rows=*/true);
}

const float* DenseStack::forward_with(const float* input, int batch, bool by_rows) {
  reserve(batch);
  input_ = input;
  const float* x = input;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int in = static_cast<int>(widths_[i]), out = static_cast<int>(widths_[i + 1]);
    float* y = outputs_[i].data();
    const float* weight = values(layers_[i]->weight);
    // y = x W^T, then bias and activation in one pass.
    if (by_rows) {
      row_dot_products(x, batch, in, weight, out, y);
    } else {
      sgemm(false, true, batch, out, in, 1.f, x, in, weight, in, 0.f, y, out);
    }
    add_bias_activate(y, values(layers_[i]->bias), batch, out, activation_after(i));
    x = y;
  }
  return x;
}

const float* DenseStack::backward(float* output_gradient, int batch, BackwardMode mode) {
  float* g = output_gradient;  // d loss / d (activated) output of layer i.
  for (size_t i = layers_.size(); i-- > 0;) {
    const int in = static_cast<int>(widths_[i]), out = static_cast<int>(widths_[i + 1]);
    const float* x = i == 0 ? input_ : outputs_[i - 1].data();
    if (mode.parameter_gradients) {
      // db = column sums of g (after the activation's derivative); dW = g^T x [out, in].
      activation_backward_column_sums(g, outputs_[i].data(), batch, out, activation_after(i),
                                      gradient_buffer(layers_[i]->bias));
      sgemm(true, false, out, in, batch, 1.f, g, out, x, in, 0.f,
            gradient_buffer(layers_[i]->weight), in);
    } else {
      activation_backward(g, outputs_[i].data(), static_cast<int64_t>(batch) * out,
                          activation_after(i));
    }
    if (i == 0 && !mode.input_gradient) return nullptr;
    // d loss / d x = g W [batch, in].
    float* dx = gradients_[i].data();
    sgemm(false, false, batch, in, out, 1.f, g, out, values(layers_[i]->weight), in, 0.f, dx, in);
    g = dx;
  }
  return g;
}

MlpLayers mlp_layers(const torch::nn::Sequential& torso) {
  MlpLayers layers;
  size_t activations = 0;
  for (const auto& child : torso->children()) {
    if (child->as<torch::nn::Linear>()) {
      layers.linears.emplace_back(std::dynamic_pointer_cast<torch::nn::LinearImpl>(child));
      continue;
    }
    Activation activation = Activation::kNone;
    if (child->as<torch::nn::ReLU>()) {
      activation = Activation::kRelu;
    } else if (child->as<torch::nn::Tanh>()) {
      activation = Activation::kTanh;
    } else if (child->as<torch::nn::Flatten>()) {
      continue;
    } else {
      throw std::invalid_argument("not a plain MLP: it holds a " + child->name());
    }
    if (layers.activation != Activation::kNone && layers.activation != activation) {
      throw std::invalid_argument("not a plain MLP: it mixes ReLU and Tanh");
    }
    layers.activation = activation;
    ++activations;
  }
  if (layers.linears.empty()) throw std::invalid_argument("not a plain MLP: it has no layer");
  if (activations != layers.linears.size()) {
    throw std::invalid_argument("not a plain MLP: an activation must follow every layer");
  }
  return layers;
}

bool is_plain_mlp(const torch::nn::Sequential& torso) {
  try {
    mlp_layers(torso);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace rl::nn
