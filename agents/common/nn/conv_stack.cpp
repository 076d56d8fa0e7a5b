#include "agents/common/nn/conv_stack.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "agents/common/nn/blas.h"
#include "agents/vector_clones.h"

namespace rl::nn {

namespace {

const float* values_of(const torch::Tensor& parameter) { return parameter.data_ptr<float>(); }

float* gradient_of(const torch::Tensor& parameter) {
  const torch::Tensor& grad = parameter.grad();
  if (!grad.defined() || !grad.is_contiguous()) {
    throw std::logic_error("ConvStack needs defined, contiguous parameter gradients");
  }
  return grad.data_ptr<float>();
}

// Adds bias[r] to row r of x ([rows, columns]), then clamps at 0 when `relu`.
RLCADE_VECTOR_CLONES
void add_row_bias(float* x, int64_t rows, int64_t columns, const float* bias, bool relu) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * columns;
    for (int64_t j = 0; j < columns; ++j) {
      const float v = row[j] + bias[r];
      row[j] = relu ? std::max(v, 0.f) : v;
    }
  }
}

// sums[r] = sum of row r of x ([rows, columns]).
void row_sums(const float* x, int64_t rows, int64_t columns, float* sums) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * columns;
    sums[r] = std::accumulate(row, row + columns, 0.f);
  }
}

// Zeroes gradient entries whose forward activation was clamped by ReLU.
RLCADE_VECTOR_CLONES
void relu_backward(const float* activation, float* gradient, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (activation[i] <= 0.f) gradient[i] = 0.f;
  }
}

}  // namespace

bool ConvStack::supports(const ConvQLayers& layers) {
  return layers.conv && layers.hidden && layers.head && blas_available();
}

ConvStack::ConvStack(const ConvQLayers& layers, const std::vector<int64_t>& observation_shape,
                     float observation_scale)
    : observation_scale_(observation_scale) {
  if (!supports(layers)) {
    throw std::invalid_argument("ConvStack needs conv, hidden and head layers and a loaded BLAS");
  }
  if (observation_shape.size() != 3) {
    throw std::invalid_argument("ConvStack needs [channels, height, width] observations");
  }
  const torch::Tensor& conv_weight = layers.conv->weight;  // [filters, channels, 3, 3]
  filters_ = conv_weight.size(0);
  channels_ = conv_weight.size(1);
  const torch::Tensor& hidden_weight = layers.hidden->weight;  // [hidden, features]
  hidden_units_ = hidden_weight.size(0);
  feature_size_ = hidden_weight.size(1);
  actions_ = layers.head->weight.size(0);
  tap_weights_.resize(static_cast<size_t>(filters_ * channels_ * 9));
  tap_gradients_.resize(tap_weights_.size());
  positions_ = feature_size_ / filters_;
  patch_size_ = channels_ * 9;
  const auto& shape = observation_shape;
  height_ = shape[1];
  width_ = shape[2];
  if ((height_ - 2) * (width_ - 2) != positions_) {
    throw std::invalid_argument("ConvStack: the hidden layer does not match the conv output");
  }
}

ConvStack::Weights ConvStack::weights_of(const ConvQLayers& layers) {
  return {values_of(layers.conv->weight),   values_of(layers.conv->bias),
          values_of(layers.hidden->weight), values_of(layers.hidden->bias),
          values_of(layers.head->weight),   values_of(layers.head->bias)};
}

ConvStack::Gradients ConvStack::gradients_of(const ConvQLayers& layers) {
  return {gradient_of(layers.conv->weight),   gradient_of(layers.conv->bias),
          gradient_of(layers.hidden->weight), gradient_of(layers.hidden->bias),
          gradient_of(layers.head->weight),   gradient_of(layers.head->bias)};
}

void ConvStack::reserve(int batch) {
  if (batch <= capacity_) return;
  capacity_ = batch;
  conv_.resize(static_cast<size_t>(batch * feature_size_));
  features_.resize(static_cast<size_t>(batch * feature_size_));
  hidden_t_.resize(static_cast<size_t>(hidden_units_ * batch));
  q_.resize(static_cast<size_t>(batch * actions_));
  dq_.resize(q_.size());
  dhidden_t_.resize(hidden_t_.size());
  dfeatures_t_.resize(features_.size());
  // Room for every input being nonzero: find_active_pixels() never allocates.
  active_.reserve(static_cast<size_t>(batch * channels_ * height_ * width_));
  first_active_.reserve(static_cast<size_t>(batch) + 1);
}

void ConvStack::find_active_pixels(const uint8_t* observations, int batch) {
  const int64_t plane = height_ * width_;
  const int64_t observation_size = channels_ * plane;
  active_.clear();
  first_active_.assign(batch + 1, 0);
  for (int b = 0; b < batch; ++b) {
    const uint8_t* observation = observations + b * observation_size;
    for (int64_t i = 0; i < observation_size; ++i) {
      if (observation[i] == 0) continue;
      const int64_t c = i / plane, y = (i % plane) / width_, x = i % width_;
      active_.push_back({static_cast<int32_t>(c), static_cast<int32_t>(y), static_cast<int32_t>(x),
                         static_cast<float>(observation[i]) * observation_scale_});
    }
    first_active_[b + 1] = static_cast<int64_t>(active_.size());
  }
}

template <typename Visit>
[[gnu::always_inline]] inline void ConvStack::for_each_tap(int b, Visit&& visit) const {
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
void ConvStack::convolve(const Weights& w, int batch) {
  // Kernel taps as rows of filters: tap_weights_[tap][f] = conv_weight[f][tap].
  for (int64_t f = 0; f < filters_; ++f) {
    for (int64_t tap = 0; tap < patch_size_; ++tap) {
      tap_weights_[tap * filters_ + f] = w.conv_weight[f * patch_size_ + tap];
    }
  }
  for (int b = 0; b < batch; ++b) {
    // Sums per position, [positions, filters]; only nonzero inputs contribute.
    float* sums = conv_.data() + b * feature_size_;
    for (int64_t p = 0; p < positions_; ++p) {
      std::copy(w.conv_bias, w.conv_bias + filters_, sums + p * filters_);
    }
    for_each_tap(b, [&](int64_t tap, int64_t position, float value) {
      const float* weights = tap_weights_.data() + tap * filters_;
      float* out = sums + position * filters_;
      for (int64_t f = 0; f < filters_; ++f) out[f] += weights[f] * value;
    });
    // ReLU, reordered to the [filters, positions] layout Flatten gives.
    float* features = features_.data() + b * feature_size_;
    for (int64_t p = 0; p < positions_; ++p) {
      for (int64_t f = 0; f < filters_; ++f) {
        features[f * positions_ + p] = std::max(sums[p * filters_ + f], 0.f);
      }
    }
  }
}

RLCADE_VECTOR_CLONES
void ConvStack::convolve_backward(const Gradients& g, int batch) {
  std::fill(tap_gradients_.begin(), tap_gradients_.end(), 0.f);
  std::fill(g.conv_bias, g.conv_bias + filters_, 0.f);
  for (int b = 0; b < batch; ++b) {
    // The conv output's gradient in [positions, filters] order, zero where the ReLU clamped.
    const float* features = features_.data() + b * feature_size_;
    float* dsums = conv_.data() + b * feature_size_;
    for (int64_t f = 0; f < filters_; ++f) {
      for (int64_t p = 0; p < positions_; ++p) {
        const int64_t j = f * positions_ + p;
        dsums[p * filters_ + f] = features[j] > 0.f ? dfeatures_t_[j * batch + b] : 0.f;
      }
    }
    for (int64_t p = 0; p < positions_; ++p) {
      for (int64_t f = 0; f < filters_; ++f) g.conv_bias[f] += dsums[p * filters_ + f];
    }
    for_each_tap(b, [&](int64_t tap, int64_t position, float value) {
      const float* d = dsums + position * filters_;
      float* out = tap_gradients_.data() + tap * filters_;
      for (int64_t f = 0; f < filters_; ++f) out[f] += d[f] * value;
    });
  }
  for (int64_t f = 0; f < filters_; ++f) {
    for (int64_t tap = 0; tap < patch_size_; ++tap) {
      g.conv_weight[f * patch_size_ + tap] = tap_gradients_[tap * filters_ + f];
    }
  }
}

void ConvStack::forward_layers(const Weights& w, const uint8_t* observations, int batch, float* q) {
  reserve(batch);
  find_active_pixels(observations, batch);
  convolve(w, batch);
  // The hidden layer transposed, [hidden, batch] = W features^T: OpenBLAS multiplies this
  // orientation ~1.5x faster than [batch, hidden] = features W^T.
  sgemm(false, true, hidden_units_, batch, feature_size_, 1.f, w.hidden_weight, feature_size_,
        features_.data(), feature_size_, 0.f, hidden_t_.data(), batch);
  add_row_bias(hidden_t_.data(), hidden_units_, batch, w.hidden_bias, /*relu=*/true);
  sgemm(true, true, batch, actions_, hidden_units_, 1.f, hidden_t_.data(), batch, w.head_weight,
        hidden_units_, 0.f, q, actions_);
  for (int b = 0; b < batch; ++b) {
    for (int64_t a = 0; a < actions_; ++a) q[b * actions_ + a] += w.head_bias[a];
  }
}

void ConvStack::backward_layers(const Weights& w, const Gradients& g, int batch) {
  // Head: dW = dq^T hidden, db = column sums of dq, dhidden^T = W^T dq^T.
  sgemm(true, true, actions_, hidden_units_, batch, 1.f, dq_.data(), actions_, hidden_t_.data(),
        batch, 0.f, g.head_weight, hidden_units_);
  std::fill(g.head_bias, g.head_bias + actions_, 0.f);
  for (int b = 0; b < batch; ++b) {
    for (int64_t a = 0; a < actions_; ++a) g.head_bias[a] += dq_[b * actions_ + a];
  }
  sgemm(true, true, hidden_units_, batch, actions_, 1.f, w.head_weight, hidden_units_, dq_.data(),
        actions_, 0.f, dhidden_t_.data(), batch);
  relu_backward(hidden_t_.data(), dhidden_t_.data(), hidden_units_ * batch);
  // Hidden layer: dW = dhidden^T features, db = row sums of dhidden^T, dfeatures^T = W^T dhidden^T.
  sgemm(false, false, hidden_units_, feature_size_, batch, 1.f, dhidden_t_.data(), batch,
        features_.data(), feature_size_, 0.f, g.hidden_weight, feature_size_);
  row_sums(dhidden_t_.data(), hidden_units_, batch, g.hidden_bias);
  sgemm(true, false, feature_size_, batch, hidden_units_, 1.f, w.hidden_weight, feature_size_,
        dhidden_t_.data(), batch, 0.f, dfeatures_t_.data(), batch);
  convolve_backward(g, batch);
}

void ConvStack::forward(const ConvQLayers& layers, const uint8_t* observations, int batch,
                        float* q) {
  forward_layers(weights_of(layers), observations, batch, q);
}

TdLoss ConvStack::td_gradient(const ConvQLayers& layers, const TdBatch& td, float* abs_td_errors) {
  prepare_gradient(layers, td.observations, td.size);
  return td_backward(layers, td, abs_td_errors);
}

void ConvStack::prepare_gradient(const ConvQLayers& layers, const uint8_t* observations,
                                 int batch) {
  reserve(batch);  // Before taking q_.data().
  forward_layers(weights_of(layers), observations, batch, q_.data());
  prepared_batch_ = batch;
}

TdLoss ConvStack::td_backward(const ConvQLayers& layers, const TdBatch& td, float* abs_td_errors) {
  if (td.size != prepared_batch_ || td.size <= 0) {
    throw std::logic_error("ConvStack::td_backward needs prepare_gradient() on the same batch");
  }
  prepared_batch_ = 0;
  const Weights w = weights_of(layers);
  const Gradients g = gradients_of(layers);
  const int batch = td.size;
  const TdLoss loss = td_loss_gradient(q_.data(), actions_, td, dq_.data(), abs_td_errors);
  backward_layers(w, g, batch);
  return loss;
}

}  // namespace rl::nn
