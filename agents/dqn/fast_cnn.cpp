#include "agents/dqn/fast_cnn.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "agents/dqn/blas.h"
#include "agents/vector_clones.h"

namespace rl {

namespace {

const float* values_of(const torch::Tensor& parameter) { return parameter.data_ptr<float>(); }

float* gradient_of(const torch::Tensor& parameter) {
  const torch::Tensor& grad = parameter.grad();
  if (!grad.defined() || !grad.is_contiguous()) {
    throw std::logic_error("FastCnn needs defined, contiguous parameter gradients");
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

bool FastCnn::supports(const QNetworkImpl& network) {
  return !network.is_mlp() && !network.value() && network.conv() && blas_available();
}

FastCnn::FastCnn(const QNetworkImpl& network, float observation_scale)
    : observation_scale_(observation_scale) {
  if (!supports(network)) {
    throw std::invalid_argument("FastCnn needs a non-dueling CNN Q-network and a loaded BLAS");
  }
  const torch::Tensor& conv_weight = network.conv()->weight;  // [filters, channels, 3, 3]
  filters_ = conv_weight.size(0);
  channels_ = conv_weight.size(1);
  const torch::Tensor& hidden_weight = network.cnn_hidden()->weight;  // [hidden, features]
  hidden_units_ = hidden_weight.size(0);
  feature_size_ = hidden_weight.size(1);
  actions_ = network.head()->weight.size(0);
  tap_weights_.resize(static_cast<size_t>(filters_ * channels_ * 9));
  tap_gradients_.resize(tap_weights_.size());
  positions_ = feature_size_ / filters_;
  patch_size_ = channels_ * 9;
  const auto& shape = network.observation_shape();
  height_ = shape[1];
  width_ = shape[2];
  if ((height_ - 2) * (width_ - 2) != positions_) {
    throw std::invalid_argument("FastCnn: the hidden layer does not match the conv output");
  }
}

FastCnn::Weights FastCnn::weights_of(const QNetworkImpl& network) {
  return {values_of(network.conv()->weight),       values_of(network.conv()->bias),
          values_of(network.cnn_hidden()->weight), values_of(network.cnn_hidden()->bias),
          values_of(network.head()->weight),       values_of(network.head()->bias)};
}

FastCnn::Gradients FastCnn::gradients_of(QNetworkImpl& network) {
  return {gradient_of(network.conv()->weight),       gradient_of(network.conv()->bias),
          gradient_of(network.cnn_hidden()->weight), gradient_of(network.cnn_hidden()->bias),
          gradient_of(network.head()->weight),       gradient_of(network.head()->bias)};
}

void FastCnn::reserve(int batch) {
  if (batch <= capacity_) return;
  capacity_ = batch;
  conv_.resize(static_cast<size_t>(batch * feature_size_));
  features_.resize(static_cast<size_t>(batch * feature_size_));
  hidden_t_.resize(static_cast<size_t>(hidden_units_ * batch));
  q_.resize(static_cast<size_t>(batch * actions_));
  dq_.resize(q_.size());
  dhidden_t_.resize(hidden_t_.size());
  dfeatures_t_.resize(features_.size());
}

void FastCnn::find_active_pixels(const uint8_t* observations, int batch) {
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
[[gnu::always_inline]] inline void FastCnn::for_each_tap(int b, Visit&& visit) const {
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
void FastCnn::convolve(const Weights& w, int batch) {
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
void FastCnn::convolve_backward(const Gradients& g, int batch) {
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

void FastCnn::forward_layers(const Weights& w, const uint8_t* observations, int batch, float* q) {
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

void FastCnn::backward_layers(const Weights& w, const Gradients& g, int batch) {
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

void FastCnn::forward(const QNetworkImpl& network, const uint8_t* observations, int batch,
                      float* q) {
  forward_layers(weights_of(network), observations, batch, q);
}

TdLoss FastCnn::td_gradient(QNetworkImpl& network, const TdBatch& td, float* abs_td_errors) {
  prepare_gradient(network, td.observations, td.size);
  return td_backward(network, td, abs_td_errors);
}

void FastCnn::prepare_gradient(const QNetworkImpl& network, const uint8_t* observations,
                               int batch) {
  reserve(batch);  // Before taking q_.data().
  forward_layers(weights_of(network), observations, batch, q_.data());
  prepared_batch_ = batch;
}

TdLoss FastCnn::td_backward(QNetworkImpl& network, const TdBatch& td, float* abs_td_errors) {
  if (td.size != prepared_batch_ || td.size <= 0) {
    throw std::logic_error("FastCnn::td_backward needs prepare_gradient() on the same batch");
  }
  prepared_batch_ = 0;
  const Weights w = weights_of(network);
  const Gradients g = gradients_of(network);
  const int batch = td.size;
  std::fill(dq_.begin(), dq_.begin() + batch * actions_, 0.f);
  const float inverse_batch = 1.f / static_cast<float>(batch);
  double loss_sum = 0, q_sum = 0;
  for (int b = 0; b < batch; ++b) {
    const int64_t action = td.actions[b];
    if (action < 0 || action >= actions_) {
      throw std::out_of_range("FastCnn: action " + std::to_string(action) + " out of range");
    }
    const float q = q_[b * actions_ + action];
    const float error = q - td.targets[b];
    const float magnitude = std::fabs(error);
    float loss, slope;
    if (!td.huber) {
      loss = error * error;
      slope = 2.f * error;
    } else if (magnitude < 1.f) {
      loss = 0.5f * error * error;
      slope = error;
    } else {
      loss = magnitude - 0.5f;
      slope = error > 0 ? 1.f : -1.f;
    }
    const float weight = td.weights ? td.weights[b] : 1.f;
    loss_sum += static_cast<double>(loss * weight);
    q_sum += q;
    dq_[b * actions_ + action] = slope * weight * inverse_batch;
    if (abs_td_errors) abs_td_errors[b] = magnitude;
  }
  backward_layers(w, g, batch);
  return {loss_sum / batch, q_sum / batch};
}

}  // namespace rl
