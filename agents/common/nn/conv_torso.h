// The engine's MinAtar CNN torso (Young & Tian 2019): a 3x3 stride-1 convolution, ReLU, one
// dense hidden layer and ReLU, forward and backward with direct BLAS calls on the LibTorch
// modules' own parameter memory (LibTorch stays the parameter store). The convolution visits
// only the nonzero inputs (MinAtar frames are mostly zeros), forward and for the conv weight
// gradient. Heads sit on top of it: the DQN Q head (conv_stack.h) and the actor-critic heads
// of A2C/PPO (conv_actor_critic.h), both through the linear-head helpers below.
//
// Layout: the torso's output is transposed, [hidden_units, batch] row-major (OpenBLAS
// multiplies the 1024->128 hidden layer ~1.5x faster in this orientation than as [batch,
// hidden]). From 16 samples the hidden layer's products run on the batch_products.h kernels
// (no packing of the weights; sgemm's sums bit for bit where OpenBLAS runs its AVX-512
// kernels). Results agree with LibTorch's to float rounding (tests/agents/conv_stack_test.cpp).
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace rl::nn {

// conv [filters, channels, 3, 3] (stride 1, no padding) and hidden [hidden, filters * (height -
// 2) * (width - 2)] taking the conv output in Flatten's order.
struct ConvTorsoLayers {
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear hidden{nullptr};
};

class ConvTorso {
 public:
  // Whether both layers are present, the conv is 3x3 stride 1 unpadded with biases, and a BLAS
  // is loaded.
  static bool supports(const ConvTorsoLayers& layers);

  // For layers shaped like `layers` on observations of `observation_shape` ([channels, height,
  // width]) multiplied by `observation_scale`. Throws std::invalid_argument unless
  // supports(layers) and the shapes fit together.
  ConvTorso(const ConvTorsoLayers& layers, const std::vector<int64_t>& observation_shape,
            float observation_scale);

  // The features ReLU(hidden(ReLU(conv(x)))) of `batch` observations (u8 or float, [batch,
  // channels, height, width]) with the current weights of `layers`, as [hidden_units, batch].
  // Valid, with hidden_gradient(), until the next forward.
  const float* forward(const ConvTorsoLayers& layers, const uint8_t* observations, int batch);
  const float* forward(const ConvTorsoLayers& layers, const float* observations, int batch);

  // [hidden_units, batch] of the last forward's batch: the heads write d loss / d features here
  // (overwriting it) before backward().
  float* hidden_gradient() { return dhidden_t_.data(); }
  // The last forward's features [hidden_units, batch] (what forward() returned).
  const float* hidden_output() const { return hidden_t_.data(); }

  // Back-propagates hidden_gradient() (consumed) through the last forward pass: the gradients of
  // the conv and hidden parameters written into their .grad() tensors (overwritten, not
  // accumulated; they must be defined and contiguous). `hidden_done`, when set, is called as
  // soon as the hidden layer's weight and bias gradients are final (before the gradient of the
  // conv layer, about 60% of the backward's compute, is computed): e.g. to start summing them
  // over the ranks meanwhile.
  void backward(const ConvTorsoLayers& layers, int batch,
                const std::function<void()>& hidden_done = nullptr);

  int64_t hidden_units() const { return hidden_units_; }

 private:
  struct Weights {
    const float *conv_weight, *conv_bias, *hidden_weight, *hidden_bias;
  };
  struct Gradients {
    float *conv_weight, *conv_bias, *hidden_weight, *hidden_bias;
  };

  void reserve(int batch);
  // Lists the nonzero inputs of each observation (MinAtar frames are mostly zeros).
  template <typename Input>
  void find_active_pixels(const Input* observations, int batch);
  // Calls visit(tap, position, value) for every (nonzero input, kernel tap) pair of sample b
  // that lands inside the conv output; tap = channel * 9 + dy * 3 + dx.
  template <typename Visit>
  void for_each_tap(int b, Visit&& visit) const;
  // The conv layer on the active pixels: conv_ = ReLU(conv + bias), and from it features_t_
  // when hidden_by_kernel(batch), else features_.
  void convolve(const Weights& w, int batch);
  // Conv weight and bias gradients from dfeatures_.
  void convolve_backward(const Gradients& g, int batch);
  // Whether the hidden layer's forward pass runs on the batch_products.h kernel (from
  // features_t_), else on sgemm (from features_): the kernel pays from kMinKernelBatch samples.
  static constexpr int kMinKernelBatch = 16;
  bool hidden_by_kernel(int batch) const;
  // features_ from conv_ (Flatten's order).
  void flatten_features(int batch);
  // The conv and hidden layers on the active pixels found last.
  const float* forward_active(const ConvTorsoLayers& layers, int batch);

  struct ActivePixel {
    int32_t channel, y, x;
    float value;  // Scaled input value.
  };

  int64_t channels_, height_, width_, filters_, hidden_units_;
  int64_t positions_;     // Conv output positions: (height - 2) * (width - 2).
  int64_t patch_size_;    // channels * 9.
  int64_t feature_size_;  // filters * positions.
  float observation_scale_;
  int capacity_ = 0;                       // Batch size the buffers hold.
  std::vector<ActivePixel> active_;        // Nonzero inputs, sample by sample.
  std::vector<ActivePixel> pixel_places_;  // [channels * height * width]: each input's place.
  std::vector<int32_t> nonzero_;           // One observation's nonzero inputs (indices).
  std::vector<int64_t> first_active_;      // [batch + 1]: sample b's are [first[b], first[b + 1]).
  std::vector<float> tap_weights_;         // [patch_size, filters]: the conv weight transposed.
  std::vector<float> tap_gradients_;       // [patch_size, filters]: its gradient, accumulating.
  std::vector<float> conv_;                // [batch, positions, filters]: ReLU(conv + bias).
  std::vector<float> dconv_;               // [positions, filters]: one sample's gradient of conv_.
  std::vector<float> features_;  // [batch, filters * positions]: conv_ in Flatten's order (sgemm).
  std::vector<float> features_t_;  // [filters * positions, batch]: features_ transposed.
  std::vector<float> hidden_t_;    // [hidden_units, batch]: ReLU(W features^T + b).
  std::vector<float> dhidden_t_;   // [hidden_units, batch]
  std::vector<float> dfeatures_;   // [batch, filters * positions]: before the conv's ReLU mask.
};

// Linear heads on a torso output stored transposed (features_t [inputs, batch]): outputs [batch,
// outputs] = features W^T + bias for weight [outputs, inputs].
void linear_head_forward(const float* features_t, int64_t inputs, int batch, const float* weight,
                         const float* bias, int64_t outputs, float* out);
// Its backward from d loss / d outputs [batch, outputs]: weight [outputs, inputs] and bias
// gradients (overwritten), and d loss / d features as [inputs, batch] into features_gradient_t,
// overwritten (accumulate false) or added to (accumulate true).
void linear_head_backward(const float* features_t, int64_t inputs, int batch, const float* weight,
                          int64_t outputs, const float* output_gradient, float* weight_gradient,
                          float* bias_gradient, float* features_gradient_t, bool accumulate);

// The .grad() buffer of a parameter the engine writes; throws std::logic_error unless it is
// defined and contiguous.
float* defined_gradient(const torch::Tensor& parameter);

}  // namespace rl::nn
