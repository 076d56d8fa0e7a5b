// A stack of dense layers computed on preallocated buffers with direct BLAS calls and fused
// element-wise loops, forward and backward, in place on the parameters of LibTorch Linear
// modules (which stay the parameter store and the checkpoint format). For the small MLPs of
// the agents, where LibTorch's per-operation dispatch and autograd bookkeeping cost more than
// the arithmetic.
//
// Layout: row-major [batch, features] float buffers; a Linear's weight is [out, in] and its
// bias [out], read through the module's tensors at every call, so the memory a FlatOptimizer
// or Module::load moves them to is always the memory used.
#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <vector>

namespace rl::nn {

enum class Activation { kNone, kRelu, kTanh };

// What a backward pass computes.
struct BackwardMode {
  bool parameter_gradients = true;  // Written into each parameter's .grad() (overwriting it).
  bool input_gradient = false;      // Returned as d loss / d input.
};

class DenseStack {
 public:
  DenseStack() = default;
  // Layer i is followed by `hidden_activation`, except the last, followed by
  // `output_activation`. Throws std::invalid_argument when consecutive widths do not match or
  // a layer has no bias.
  DenseStack(std::vector<torch::nn::Linear> layers, Activation hidden_activation,
             Activation output_activation = Activation::kNone);

  // Outputs [batch, output_size()] for `batch` rows of `input` (input_size() floats each). The
  // returned buffer and `input` must stay unchanged until the backward pass that uses them.
  const float* forward(const float* input, int batch);
  // forward() for a few rows at a time (acting): the same outputs by per-row dot products,
  // which beat a BLAS call's setup below ~8 rows. Rounding may differ from forward()'s in the
  // last bits (another summation order).
  const float* forward_rows(const float* input, int batch);
  // From d loss / d output [batch, output_size()] of the last forward pass (same batch):
  // parameter gradients (when asked) and d loss / d input [batch, input_size()] (when asked,
  // else nullptr). `output_gradient` may be overwritten.
  const float* backward(float* output_gradient, int batch, BackwardMode mode);

  int64_t input_size() const { return widths_.empty() ? 0 : widths_.front(); }
  int64_t output_size() const { return widths_.empty() ? 0 : widths_.back(); }
  bool empty() const { return layers_.empty(); }

 private:
  Activation activation_after(size_t layer) const;
  // forward() (by_rows false: one sgemm per layer) or forward_rows() (true).
  const float* forward_with(const float* input, int batch, bool by_rows);
  void reserve(int batch);

  std::vector<torch::nn::Linear> layers_;
  std::vector<int64_t> widths_;  // widths_[0] = input, widths_[i + 1] = layer i's outputs.
  Activation hidden_activation_ = Activation::kNone;
  Activation output_activation_ = Activation::kNone;
  const float* input_ = nullptr;
  int capacity_ = 0;                           // Rows the buffers hold.
  std::vector<std::vector<float>> outputs_;    // Per layer: activated outputs [batch, out].
  std::vector<std::vector<float>> gradients_;  // Per layer: d loss / d its input [batch, in].
};

// The Linear layers of an MLP torso (in order) and its activation. Throws
// std::invalid_argument when `torso` holds anything but Flatten, Linear, ReLU and Tanh, or
// mixes the two activations.
struct MlpLayers {
  std::vector<torch::nn::Linear> linears;
  Activation activation = Activation::kNone;
};
MlpLayers mlp_layers(const torch::nn::Sequential& torso);

// Whether `torso` is one mlp_layers() accepts.
bool is_plain_mlp(const torch::nn::Sequential& torso);

}  // namespace rl::nn
