#include "agents/common/nn/conv_torso.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "agents/common/nn/batch_products.h"
#include "agents/common/nn/blas.h"
#include "agents/common/nn/nonzero_scan.h"
#include "agents/vector_clones.h"

namespace rl::nn {

namespace {

const float* values_of(const torch::Tensor& parameter) { return parameter.data_ptr<float>(); }

// Adds bias[r] to row r of x ([rows, columns]), then clamps at 0.
RLCADE_VECTOR_CLONES
void add_row_bias_relu(float* x, int64_t rows, int64_t columns, const float* bias) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * columns;
    for (int64_t j = 0; j < columns; ++j) row[j] = std::max(row[j] + bias[r], 0.f);
  }
}

// sums[r] = sum of row r of x ([rows, columns]).
void row_sums(const float* x, int64_t rows, int64_t columns, float* sums) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * columns;
    sums[r] = std::accumulate(row, row + columns, 0.f);
  }
}

// x = max(x, 0) element-wise.
RLCADE_VECTOR_CLONES
void relu_in_place(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.f);
}

// Zeroes gradient entries whose forward activation was clamped by ReLU.
RLCADE_VECTOR_CLONES
void relu_backward(const float* activation, float* gradient, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (activation[i] <= 0.f) gradient[i] = 0.f;
  }
}

}  // namespace

float* defined_gradient(const torch::Tensor& parameter) {
  const torch::Tensor& grad = parameter.grad();
  if (!grad.defined() || !grad.is_contiguous()) {
    throw std::logic_error("the engine needs defined, contiguous parameter gradients");
  }
  return grad.data_ptr<float>();
}

bool ConvTorso::supports(const ConvTorsoLayers& layers) {
  if (!layers.conv || !layers.hidden || !blas_available()) return false;
  const auto& options = layers.conv->options;
  const auto& kernel = *options.kernel_size();
  const auto& stride = *options.stride();
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&options.padding());
  return kernel[0] == 3 && kernel[1] == 3 && stride[0] == 1 && stride[1] == 1 && padding &&
         (**padding)[0] == 0 && (**padding)[1] == 0 && (*options.dilation())[0] == 1 &&
         (*options.dilation())[1] == 1 && options.groups() == 1 && options.bias() &&
         layers.hidden->options.bias();
}

ConvTorso::ConvTorso(const ConvTorsoLayers& layers, const std::vector<int64_t>& observation_shape,
                     float observation_scale)
    : observation_scale_(observation_scale) {
  if (!supports(layers)) {
    throw std::invalid_argument(
        "the conv torso needs a 3x3 stride-1 unpadded conv and a hidden layer, with biases, and "
        "a loaded BLAS");
  }
  if (observation_shape.size() != 3) {
    throw std::invalid_argument("the conv torso needs [channels, height, width] observations");
  }
  const torch::Tensor& conv_weight = layers.conv->weight;  // [filters, channels, 3, 3]
  filters_ = conv_weight.size(0);
  channels_ = conv_weight.size(1);
  const torch::Tensor& hidden_weight = layers.hidden->weight;  // [hidden, features]
  hidden_units_ = hidden_weight.size(0);
  feature_size_ = hidden_weight.size(1);
  tap_weights_.resize(static_cast<size_t>(filters_ * channels_ * 9));
  tap_gradients_.resize(tap_weights_.size());
  positions_ = feature_size_ / filters_;
  patch_size_ = channels_ * 9;
  height_ = observation_shape[1];
  width_ = observation_shape[2];
  if (observation_shape[0] != channels_ || (height_ - 2) * (width_ - 2) != positions_ ||
      positions_ * filters_ != feature_size_) {
    throw std::invalid_argument(
        "the conv torso's layers do not fit the observations: the conv takes " +
        std::to_string(channels_) + " channels and the hidden layer " +
        std::to_string(feature_size_) + " inputs");
  }
  const int64_t observation_size = channels_ * height_ * width_;
  nonzero_.resize(static_cast<size_t>(observation_size));
  dconv_.resize(static_cast<size_t>(feature_size_));
  pixel_places_.reserve(static_cast<size_t>(observation_size));
  for (int64_t i = 0; i < observation_size; ++i) {
    const int64_t c = i / (height_ * width_), y = (i / width_) % height_, x = i % width_;
    pixel_places_.push_back(
        {static_cast<int32_t>(c), static_cast<int32_t>(y), static_cast<int32_t>(x), 0.f});
  }
}

void ConvTorso::reserve(int batch) {
  if (batch <= capacity_) return;
  capacity_ = batch;
  conv_.resize(static_cast<size_t>(batch * feature_size_));
  features_.resize(static_cast<size_t>(batch * feature_size_));
  features_t_.resize(features_.size());
  hidden_t_.resize(static_cast<size_t>(hidden_units_ * batch));
  dhidden_t_.resize(hidden_t_.size());
  dfeatures_.resize(features_.size());
  // Room for every input being nonzero: find_active_pixels() never allocates.
  active_.reserve(static_cast<size_t>(batch * channels_ * height_ * width_));
  first_active_.reserve(static_cast<size_t>(batch) + 1);
}

template <typename Input>
void ConvTorso::find_active_pixels(const Input* observations, int batch) {
  const int64_t observation_size = channels_ * height_ * width_;
  active_.clear();
  first_active_.assign(batch + 1, 0);
  for (int b = 0; b < batch; ++b) {
    const Input* observation = observations + b * observation_size;
    const int64_t count = nonzero_indices(observation, observation_size, nonzero_.data());
    for (int64_t k = 0; k < count; ++k) {
      const int32_t i = nonzero_[k];
      ActivePixel pixel = pixel_places_[i];
      pixel.value = static_cast<float>(observation[i]) * observation_scale_;
      active_.push_back(pixel);
    }
    first_active_[b + 1] = static_cast<int64_t>(active_.size());
  }
}

template <typename Visit>
[[gnu::always_inline]] inline void ConvTorso::for_each_tap(int b, Visit&& visit) const {
  const int64_t out_height = height_ - 2, out_width = width_ - 2;
  for (int64_t i = first_active_[b]; i < first_active_[b + 1]; ++i) {
    const ActivePixel& pixel = active_[i];
    for (int64_t dy = 0; dy < 3; ++dy) {
      const int64_t oy = pixel.y - dy;
      if (oy < 0 || oy >= out_height) continue;
      for (int64_t dx = 0; dx < 3; ++dx) {
        const int64_t ox = pixel.x - dx;
        if (ox < 0 || ox >= out_width) continue;
        visit(pixel.channel * 9 + dy * 3 + dx, oy * out_width + ox, pixel.value);
      }
    }
  }
}

RLCADE_VECTOR_CLONES
void ConvTorso::convolve(const Weights& w, int batch) {
  // Kernel taps as rows of filters: tap_weights_[tap][f] = conv_weight[f][tap].
  for (int64_t f = 0; f < filters_; ++f) {
    for (int64_t tap = 0; tap < patch_size_; ++tap) {
      tap_weights_[tap * filters_ + f] = w.conv_weight[f * patch_size_ + tap];
    }
  }
  for (int b = 0; b < batch; ++b) {
    // Sample b's sums, one row of filters per position; only nonzero inputs contribute.
    float* sums = conv_.data() + b * feature_size_;
    for (int64_t p = 0; p < positions_; ++p) {
      float* out = sums + p * filters_;
      for (int64_t f = 0; f < filters_; ++f) out[f] = w.conv_bias[f];
    }
    for_each_tap(b, [&](int64_t tap, int64_t position, float value) {
      const float* weights = tap_weights_.data() + tap * filters_;
      float* out = sums + position * filters_;
      for (int64_t f = 0; f < filters_; ++f) out[f] += weights[f] * value;
    });
  }
  relu_in_place(conv_.data(), batch * feature_size_);
  if (hidden_by_kernel(batch)) {
    // Straight into the kernel's [features, batch]: position p's [batch, filters] (rows a
    // sample's sums apart) goes to rows p, positions + p, ... of it.
    for (int64_t p = 0; p < positions_; ++p) {
      transpose(conv_.data() + p * filters_, feature_size_, batch, filters_,
                features_t_.data() + p * batch, positions_ * batch);
    }
  } else {
    flatten_features(batch);
  }
}

bool ConvTorso::hidden_by_kernel(int batch) const {
  return batch >= kMinKernelBatch && batch_product_kernels_available();
}

void ConvTorso::flatten_features(int batch) {
  // Sample b's [positions, filters] to [filters, positions].
  for (int b = 0; b < batch; ++b) {
    transpose(conv_.data() + b * feature_size_, filters_, positions_, filters_,
              features_.data() + b * feature_size_, positions_);
  }
}

RLCADE_VECTOR_CLONES
void ConvTorso::convolve_backward(const Gradients& g, int batch) {
  std::fill(tap_gradients_.begin(), tap_gradients_.end(), 0.f);
  // The bias gradient sums sample by sample, position by position; the MinAtar CNN's 16 filters
  // in a local array the compiler keeps in a register.
  constexpr int64_t kRegisterFilters = 16;
  float register_total[kRegisterFilters] = {};
  float* bias_total = filters_ == kRegisterFilters ? register_total : g.conv_bias;
  std::fill(bias_total, bias_total + filters_, 0.f);
  float* dsums = dconv_.data();
  for (int b = 0; b < batch; ++b) {
    // Sample b's conv output gradient in the conv's [positions, filters] order, zero where the
    // ReLU clamped.
    transpose(dfeatures_.data() + b * feature_size_, positions_, filters_, positions_, dsums,
              filters_);
    relu_backward(conv_.data() + b * feature_size_, dsums, feature_size_);
    if (filters_ == kRegisterFilters) {
      for (int64_t p = 0; p < positions_; ++p) {
        for (int64_t f = 0; f < kRegisterFilters; ++f) {
          register_total[f] += dsums[p * kRegisterFilters + f];
        }
      }
    } else {
      for (int64_t p = 0; p < positions_; ++p) {
        for (int64_t f = 0; f < filters_; ++f) g.conv_bias[f] += dsums[p * filters_ + f];
      }
    }
    for_each_tap(b, [&](int64_t tap, int64_t position, float value) {
      const float* d = dsums + position * filters_;
      float* out = tap_gradients_.data() + tap * filters_;
      for (int64_t f = 0; f < filters_; ++f) out[f] += d[f] * value;
    });
  }
  if (bias_total == register_total) std::copy_n(register_total, filters_, g.conv_bias);
  for (int64_t f = 0; f < filters_; ++f) {
    for (int64_t tap = 0; tap < patch_size_; ++tap) {
      g.conv_weight[f * patch_size_ + tap] = tap_gradients_[tap * filters_ + f];
    }
  }
}

const float* ConvTorso::forward(const ConvTorsoLayers& layers, const uint8_t* observations,
                                int batch) {
  reserve(batch);
  find_active_pixels(observations, batch);
  return forward_active(layers, batch);
}

const float* ConvTorso::forward(const ConvTorsoLayers& layers, const float* observations,
                                int batch) {
  reserve(batch);
  find_active_pixels(observations, batch);
  return forward_active(layers, batch);
}

const float* ConvTorso::forward_active(const ConvTorsoLayers& layers, int batch) {
  const Weights w{values_of(layers.conv->weight), values_of(layers.conv->bias),
                  values_of(layers.hidden->weight), values_of(layers.hidden->bias)};
  convolve(w, batch);
  // The hidden layer transposed, [hidden, batch] = W features^T.
  if (hidden_by_kernel(batch)) {
    dense_forward_transposed(w.hidden_weight, hidden_units_, feature_size_, features_t_.data(),
                             batch, hidden_t_.data());
  } else {
    sgemm(false, true, hidden_units_, batch, feature_size_, 1.f, w.hidden_weight, feature_size_,
          features_.data(), feature_size_, 0.f, hidden_t_.data(), batch);
  }
  add_row_bias_relu(hidden_t_.data(), hidden_units_, batch, w.hidden_bias);
  return hidden_t_.data();
}

void ConvTorso::backward(const ConvTorsoLayers& layers, int batch,
                         const std::function<void()>& hidden_done) {
  const float* hidden_weight = values_of(layers.hidden->weight);
  const Gradients g{defined_gradient(layers.conv->weight), defined_gradient(layers.conv->bias),
                    defined_gradient(layers.hidden->weight), defined_gradient(layers.hidden->bias)};
  relu_backward(hidden_t_.data(), dhidden_t_.data(), hidden_units_ * batch);
  // Hidden layer: dW = dhidden^T features, db = row sums of dhidden^T, dfeatures = dhidden W
  // ([batch, features]: each sample's row contiguous for the conv backward; a [features, batch]
  // product read back column by column missed the cache on nearly every element).
  if (hidden_by_kernel(batch)) {  // The forward pass wrote only features_t_.
    dense_weight_gradient_transposed_inputs(dhidden_t_.data(), hidden_units_, batch,
                                            features_t_.data(), feature_size_, g.hidden_weight);
  } else {
    dense_weight_gradient(dhidden_t_.data(), hidden_units_, batch, features_.data(), feature_size_,
                          g.hidden_weight);
  }
  row_sums(dhidden_t_.data(), hidden_units_, batch, g.hidden_bias);
  if (hidden_done) hidden_done();
  dense_input_gradient(dhidden_t_.data(), hidden_units_, batch, hidden_weight, feature_size_,
                       dfeatures_.data());
  convolve_backward(g, batch);
}

void linear_head_forward(const float* features_t, int64_t inputs, int batch, const float* weight,
                         const float* bias, int64_t outputs, float* out) {
  sgemm(true, true, batch, outputs, inputs, 1.f, features_t, batch, weight, inputs, 0.f, out,
        outputs);
  for (int b = 0; b < batch; ++b) {
    for (int64_t o = 0; o < outputs; ++o) out[b * outputs + o] += bias[o];
  }
}

void linear_head_backward(const float* features_t, int64_t inputs, int batch, const float* weight,
                          int64_t outputs, const float* output_gradient, float* weight_gradient,
                          float* bias_gradient, float* features_gradient_t, bool accumulate) {
  // dW = dout^T features, db = column sums of dout, dfeatures^T = W^T dout^T.
  sgemm(true, true, outputs, inputs, batch, 1.f, output_gradient, outputs, features_t, batch, 0.f,
        weight_gradient, inputs);
  std::fill(bias_gradient, bias_gradient + outputs, 0.f);
  for (int b = 0; b < batch; ++b) {
    for (int64_t o = 0; o < outputs; ++o) bias_gradient[o] += output_gradient[b * outputs + o];
  }
  sgemm(true, true, inputs, batch, outputs, 1.f, weight, inputs, output_gradient, outputs,
        accumulate ? 1.f : 0.f, features_gradient_t, batch);
}

}  // namespace rl::nn
