#include "agents/common/nn/tanh_gaussian.h"

#include <algorithm>
#include <cmath>

namespace rl::nn {

namespace {

constexpr float kHalfLogTwoPi = 0.9189385332046727f;  // log(2 pi) / 2
constexpr float kLogTwo = 0.6931471805599453f;

// log(1 + exp(x)) without overflow.
float softplus(float x) { return std::max(x, 0.f) + std::log1p(std::exp(-std::abs(x))); }

}  // namespace

TanhGaussianHead::TanhGaussianHead(double log_std_min, double log_std_max)
    : log_std_min_(static_cast<float>(log_std_min)),
      log_std_half_range_(static_cast<float>(0.5 * (log_std_max - log_std_min))) {}

void TanhGaussianHead::sample(const float* mean, const float* raw_log_std, const float* noise,
                              int batch, int dim, float* actions, float* log_probs) {
  batch_ = batch;
  dim_ = dim;
  const size_t n = static_cast<size_t>(batch) * dim;
  if (actions_.size() < n) {
    actions_.resize(n);
    bounded_.resize(n);
    spread_.resize(n);
  }
  for (int r = 0; r < batch; ++r) {
    float log_prob = 0.f;
    for (int d = 0; d < dim; ++d) {
      const size_t i = static_cast<size_t>(r) * dim + d;
      const float bounded = std::tanh(raw_log_std[i]);
      const float log_std = log_std_min_ + log_std_half_range_ * (bounded + 1.f);
      const float spread = std::exp(log_std) * noise[i];
      const float u = mean[i] + spread;
      const float action = std::tanh(u);
      // Gaussian density of u ((u - mean) / std is the noise), minus the log-Jacobian of tanh.
      log_prob += -0.5f * noise[i] * noise[i] - log_std - kHalfLogTwoPi -
                  2.f * (kLogTwo - u - softplus(-2.f * u));
      bounded_[i] = bounded;
      spread_[i] = spread;
      actions_[i] = action;
      actions[i] = action;
    }
    log_probs[r] = log_prob;
  }
}

void TanhGaussianHead::mode(const float* mean, int batch, int dim, float* actions) {
  const size_t n = static_cast<size_t>(batch) * dim;
  for (size_t i = 0; i < n; ++i) actions[i] = std::tanh(mean[i]);
}

void TanhGaussianHead::backward(const float* action_gradient, const float* log_prob_gradient,
                                float* mean_gradient, float* raw_log_std_gradient) const {
  for (int r = 0; r < batch_; ++r) {
    const float g_log_prob = log_prob_gradient[r];
    for (int d = 0; d < dim_; ++d) {
      const size_t i = static_cast<size_t>(r) * dim_ + d;
      const float a = actions_[i];
      // d log_prob / d u = 2 tanh(u) (the Gaussian term is constant in u given the noise);
      // d action / d u = 1 - tanh(u)^2.
      const float g_u = g_log_prob * 2.f * a + action_gradient[i] * (1.f - a * a);
      mean_gradient[i] = g_u;
      // u moves with log_std by exp(log_std) * noise; the density has -log_std.
      const float g_log_std = g_u * spread_[i] - g_log_prob;
      raw_log_std_gradient[i] = g_log_std * log_std_half_range_ * (1.f - bounded_[i] * bounded_[i]);
    }
  }
}

}  // namespace rl::nn
