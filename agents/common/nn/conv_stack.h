// The engine's MinAtar Q-network: the conv torso (conv_torso.h: 3x3 conv, ReLU, dense hidden,
// ReLU) and a linear Q head, forward and backward on the LibTorch modules' own parameter
// memory, with the TD loss of q_heads.h. Results agree with LibTorch's to float rounding
// (tests/agents/conv_stack_test.cpp).
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <vector>

#include "agents/common/nn/conv_torso.h"
#include "agents/common/nn/q_heads.h"

namespace rl::nn {

// The layers of one such network (online or target): the torso's conv and hidden layers and
// head [actions, hidden].
struct ConvQLayers {
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear hidden{nullptr};
  torch::nn::Linear head{nullptr};
};

class ConvStack {
 public:
  // Whether every layer is present, the torso is one ConvTorso computes, and a BLAS is loaded.
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
  static ConvTorsoLayers torso_layers(const ConvQLayers& layers) {
    return {layers.conv, layers.hidden};
  }
  void reserve(int batch);

  ConvTorso torso_;
  int64_t actions_;
  int capacity_ = 0;        // Batch size the buffers hold.
  int prepared_batch_ = 0;  // Batch of the last prepare_gradient(); 0 after td_backward().
  std::vector<float> q_;    // [batch, actions]
  std::vector<float> dq_;   // [batch, actions]: loss gradient w.r.t. Q.
};

}  // namespace rl::nn
