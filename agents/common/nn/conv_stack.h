// The engine's MinAtar CNN: a 3x3 stride-1 convolution, ReLU, one dense hidden layer, ReLU and
// a linear Q head, forward and backward with direct BLAS calls on the LibTorch modules' own
// parameter memory (LibTorch stays the parameter store). The convolution visits only the
// nonzero inputs (MinAtar frames are mostly zeros). On MinAtar-sized networks LibTorch spends
// more time dispatching and allocating than multiplying; this does the same arithmetic in
// preallocated buffers. Results agree with LibTorch's to float rounding
// (tests/agents/conv_stack_test.cpp).
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <vector>

#include "agents/common/nn/q_heads.h"

namespace rl::nn {

// The layers of one such network (online or target): conv [filters, channels, 3, 3], hidden
// [hidden, filters * (height - 2) * (width - 2)] taking the conv output in Flatten's order, and
// head [actions, hidden].
struct ConvQLayers {
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear hidden{nullptr};
  torch::nn::Linear head{nullptr};
};

class ConvStack {
 public:
  // Whether every layer is present and a BLAS is loaded.
  static bool supports(const ConvQLayers& layers);

  // For networks shaped like `layers` on u8 observations of `observation_shape` ([channels,
  // height, width]) multiplied by `observation_scale`. Throws std::invalid_argument unless
  // supports(layers) and the shapes fit together.
  ConvStack(const ConvQLayers& layers, const std::vector<int64_t>& observation_shape,
            float observation_scale);

  // Q-values of `batch` observations with the current weights of `layers` (any layers of the
  // constructor's shapes) into q ([batch, actions] row-major).
  void forward(const ConvQLayers& layers, const uint8_t* observations, int batch, float* q);

  // Forward pass on `td.observations`, the TD loss against `td.targets`, and its gradient
  // written into the .grad() tensors of the layers' parameters (overwritten, not accumulated;
  // they must be defined and contiguous). `abs_td_errors` (td.size floats) receives
  // |Q(s, a) - target| when not null. Same as prepare_gradient() then td_backward().
  TdLoss td_gradient(const ConvQLayers& layers, const TdBatch& td, float* abs_td_errors);

  // td_gradient() in two halves, so the targets can be computed meanwhile: the forward pass
  // on `batch` observations, then the loss and gradient for `td`, whose observations and size
  // must be the ones just prepared (throws std::logic_error for another size).
  void prepare_gradient(const ConvQLayers& layers, const uint8_t* observations, int batch);
  TdLoss td_backward(const ConvQLayers& layers, const TdBatch& td, float* abs_td_errors);

 private:
  struct Weights {
    const float *conv_weight, *conv_bias, *hidden_weight, *hidden_bias, *head_weight, *head_bias;
  };
  struct Gradients {
    float *conv_weight, *conv_bias, *hidden_weight, *hidden_bias, *head_weight, *head_bias;
  };
  static Weights weights_of(const ConvQLayers& layers);
  static Gradients gradients_of(const ConvQLayers& layers);

  void reserve(int batch);
  // Lists the nonzero inputs of each observation (MinAtar frames are mostly zeros).
  void find_active_pixels(const uint8_t* observations, int batch);
  // Calls visit(tap, position, value) for every (nonzero input, kernel tap) pair of sample b
  // that lands inside the conv output; tap = channel * 9 + dy * 3 + dx.
  template <typename Visit>
  void for_each_tap(int b, Visit&& visit) const;
  // The conv layer on the active pixels: features_ = ReLU(conv + bias) in Flatten's order.
  void convolve(const Weights& w, int batch);
  // Conv weight and bias gradients from dfeatures_t_.
  void convolve_backward(const Gradients& g, int batch);
  // Fills features_, hidden_t_ and q ([batch, actions]).
  void forward_layers(const Weights& w, const uint8_t* observations, int batch, float* q);
  // Back-propagates dq_ ([batch, actions]) through the activations of the last forward_layers.
  void backward_layers(const Weights& w, const Gradients& g, int batch);

  struct ActivePixel {
    int32_t channel, y, x;
    float value;  // Scaled input value.
  };

  int64_t channels_, height_, width_, filters_, hidden_units_, actions_;
  int64_t positions_;     // Conv output positions: (height - 2) * (width - 2).
  int64_t patch_size_;    // channels * 9.
  int64_t feature_size_;  // filters * positions.
  float observation_scale_;
  int capacity_ = 0;                 // Batch size the buffers hold.
  int prepared_batch_ = 0;           // Batch of the last prepare_gradient(); 0 after td_backward().
  std::vector<ActivePixel> active_;  // Nonzero inputs, sample by sample.
  std::vector<int64_t> first_active_;  // [batch + 1]: sample b's are [first[b], first[b + 1]).
  std::vector<float> tap_weights_;     // [patch_size, filters]: the conv weight transposed.
  std::vector<float> tap_gradients_;   // [patch_size, filters]: its gradient, accumulating.
  std::vector<float> conv_;         // [batch, positions, filters]: conv sums, then their gradient.
  std::vector<float> features_;     // [batch, filters * positions]: ReLU(conv + bias), torch order.
  std::vector<float> hidden_t_;     // [hidden_units, batch]: ReLU(W features^T + b).
  std::vector<float> q_;            // [batch, actions]
  std::vector<float> dq_;           // [batch, actions]: loss gradient w.r.t. Q.
  std::vector<float> dhidden_t_;    // [hidden_units, batch]
  std::vector<float> dfeatures_t_;  // [filters * positions, batch]: before the conv's ReLU mask.
};

}  // namespace rl::nn
