#include "agents/common/nn/policy_heads.h"

#include <algorithm>
#include <cmath>

namespace rl::nn {

namespace {

constexpr float kIllegalLogit = -1e8f;  // As Categorical in agents/common/distributions.cpp.
constexpr double kLogTwoPi = 1.8378770664093453;

// log N(actions; mean, exp(log_std)^2) summed over each row's `dim` elements, given
// inverse_std[d] = exp(-log_std[d]).
void gaussian_log_probs(const float* mean, const float* log_std, const float* inverse_std,
                        const float* actions, int batch, int64_t dim, float* log_probs) {
  for (int r = 0; r < batch; ++r) {
    float sum = 0.f;
    for (int64_t d = 0; d < dim; ++d) {
      const size_t i = static_cast<size_t>(r) * dim + d;
      const float z = (actions[i] - mean[i]) * inverse_std[d];
      sum += -0.5f * z * z - log_std[d] - static_cast<float>(0.5 * kLogTwoPi);
    }
    log_probs[r] = sum;
  }
}

}  // namespace

void CategoricalHead::forward(const float* logits, const uint8_t* legal, int batch) {
  const size_t n = static_cast<size_t>(batch) * actions_;
  if (log_probs_.size() < n) log_probs_.resize(n);
  for (int r = 0; r < batch; ++r) {
    const float* z = logits + r * actions_;
    const uint8_t* mask = legal ? legal + r * actions_ : nullptr;
    float* out = log_probs_.data() + r * actions_;
    float top = -INFINITY;
    for (int64_t a = 0; a < actions_; ++a) {
      out[a] = mask && !mask[a] ? kIllegalLogit : z[a];
      top = std::max(top, out[a]);
    }
    float sum = 0.f;
    for (int64_t a = 0; a < actions_; ++a) sum += std::exp(out[a] - top);
    const float log_normalizer = top + std::log(sum);
    for (int64_t a = 0; a < actions_; ++a) out[a] -= log_normalizer;
  }
}

void CategoricalHead::sample(const float* uniforms, int batch, int64_t* actions,
                             float* log_probs) const {
  for (int r = 0; r < batch; ++r) {
    const float* lp = log_probs_.data() + r * actions_;
    int64_t chosen = 0;
    if (uniforms) {
      // The first action whose cumulative probability exceeds the uniform draw; rounding can
      // leave the total just below 1, so fall back to the last action with nonzero probability.
      float cumulative = 0.f;
      chosen = -1;
      int64_t last_possible = 0;
      for (int64_t a = 0; a < actions_; ++a) {
        const float p = std::exp(lp[a]);
        if (p > 0.f) last_possible = a;
        cumulative += p;
        if (chosen < 0 && uniforms[r] < cumulative && p > 0.f) chosen = a;
      }
      if (chosen < 0) chosen = last_possible;
    } else {
      chosen = std::max_element(lp, lp + actions_) - lp;
    }
    actions[r] = chosen;
    if (log_probs) log_probs[r] = lp[chosen];
  }
}

void CategoricalHead::evaluate(const int64_t* actions, int batch, float* log_probs,
                               float* entropies) const {
  for (int r = 0; r < batch; ++r) {
    const float* lp = log_probs_.data() + r * actions_;
    float entropy = 0.f;
    for (int64_t a = 0; a < actions_; ++a) entropy -= std::exp(lp[a]) * lp[a];
    log_probs[r] = lp[actions[r]];
    entropies[r] = entropy;
  }
}

void CategoricalHead::backward(const int64_t* actions, const float* log_prob_gradient,
                               const float* entropy_gradient, int batch,
                               float* logit_gradient) const {
  // d log p(a) / d z_j = [j == a] - p_j;  d H / d z_j = -p_j (log p_j + H).
  for (int r = 0; r < batch; ++r) {
    const float* lp = log_probs_.data() + r * actions_;
    float* g = logit_gradient + r * actions_;
    float entropy = 0.f;
    for (int64_t a = 0; a < actions_; ++a) entropy -= std::exp(lp[a]) * lp[a];
    const float g_log_prob = log_prob_gradient[r], g_entropy = entropy_gradient[r];
    for (int64_t a = 0; a < actions_; ++a) {
      const float p = std::exp(lp[a]);
      // Illegal actions (p = 0) were replaced by a constant logit: no gradient reaches them.
      g[a] = p > 0.f ? -g_log_prob * p - g_entropy * p * (lp[a] + entropy) : 0.f;
    }
    g[actions[r]] += g_log_prob;
  }
}

const float* DiagGaussianHead::inverse_stds(const float* log_std) const {
  for (int64_t d = 0; d < dim_; ++d) inverse_std_[d] = std::exp(-log_std[d]);
  return inverse_std_.data();
}

void DiagGaussianHead::sample(const float* mean, const float* log_std, const float* noise,
                              int batch, float* actions, float* log_probs) const {
  if (noise) {
    for (int64_t d = 0; d < dim_; ++d) std_[d] = std::exp(log_std[d]);
    for (int r = 0; r < batch; ++r) {
      for (int64_t d = 0; d < dim_; ++d) {
        const size_t i = static_cast<size_t>(r) * dim_ + d;
        actions[i] = mean[i] + std_[d] * noise[i];
      }
    }
  } else {
    std::copy_n(mean, static_cast<size_t>(batch) * dim_, actions);
  }
  if (log_probs) {
    gaussian_log_probs(mean, log_std, inverse_stds(log_std), actions, batch, dim_, log_probs);
  }
}

void DiagGaussianHead::evaluate(const float* mean, const float* log_std, const float* actions,
                                int batch, float* log_probs, float* entropies) const {
  float entropy = 0.f;
  for (int64_t d = 0; d < dim_; ++d) {
    entropy += static_cast<float>(0.5 + 0.5 * kLogTwoPi) + log_std[d];
  }
  gaussian_log_probs(mean, log_std, inverse_stds(log_std), actions, batch, dim_, log_probs);
  std::fill(entropies, entropies + batch, entropy);
}

void DiagGaussianHead::backward(const float* mean, const float* log_std, const float* actions,
                                const float* log_prob_gradient, const float* entropy_gradient,
                                int batch, float* mean_gradient, float* log_std_gradient) const {
  // With z = (a - mean) / std: d log p / d mean = z / std, d log p / d log_std = z^2 - 1,
  // d H / d log_std = 1.
  std::fill(log_std_gradient, log_std_gradient + dim_, 0.f);
  const float* inverse_std_of = inverse_stds(log_std);
  for (int r = 0; r < batch; ++r) {
    const float g = log_prob_gradient[r];
    for (int64_t d = 0; d < dim_; ++d) {
      const size_t i = static_cast<size_t>(r) * dim_ + d;
      const float inverse_std = inverse_std_of[d];
      const float z = (actions[i] - mean[i]) * inverse_std;
      mean_gradient[i] = g * z * inverse_std;
      log_std_gradient[d] += g * (z * z - 1.f) + entropy_gradient[r];
    }
  }
}

}  // namespace rl::nn
