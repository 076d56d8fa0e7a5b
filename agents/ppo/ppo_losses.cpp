#include "agents/ppo/ppo_losses.h"

#include <algorithm>
#include <cmath>

namespace rl::ppo {

LossValues ratio_statistics(const MinibatchTerms& t, const LossSettings& s) {
  LossValues out;
  double kl = 0;
  int clipped = 0;
  for (int i = 0; i < t.batch; ++i) {
    const float log_ratio = t.log_probs[i] - t.old_log_probs[i];
    const float ratio = std::exp(log_ratio);
    kl += (ratio - 1.f) - log_ratio;
    const double deviation = std::abs(ratio - 1.f);
    if (deviation > s.clip_coef) ++clipped;
    out.max_ratio_deviation = std::max(out.max_ratio_deviation, deviation);
  }
  out.approx_kl = kl / t.batch;
  out.clip_fraction = static_cast<double>(clipped) / t.batch;
  return out;
}

namespace {

// The policy term of row i and its gradient with respect to the log-probability (before the
// 1/batch of the mean).
float surrogate(float log_prob, float old_log_prob, float advantage, float clip, float* gradient) {
  const float ratio = std::exp(log_prob - old_log_prob);
  const float clamped = std::clamp(ratio, 1.f - clip, 1.f + clip);
  const float unclipped = -advantage * ratio, clipped = -advantage * clamped;
  const bool inside = ratio >= 1.f - clip && ratio <= 1.f + clip;  // clamp passes gradient.
  // d(-A r)/d log_prob = -A r. The clipped side carries it only inside the clip range.
  if (unclipped > clipped) {
    *gradient = unclipped;
  } else if (unclipped < clipped) {
    *gradient = inside ? unclipped : 0.f;
  } else {
    *gradient = inside ? unclipped : 0.5f * unclipped;
  }
  return std::max(unclipped, clipped);
}

// The value term (V - R)^2 of row i, or its clipped max, and its gradient with respect to V.
float value_error(float value, float old_value, float target, float clip, bool clip_value,
                  float* gradient) {
  const float error = value - target;
  const float squared = error * error;
  if (!clip_value) {
    *gradient = 2.f * error;
    return squared;
  }
  const float change = value - old_value;
  const float clipped_value = old_value + std::clamp(change, -clip, clip);
  const float clipped_error = clipped_value - target;
  const float clipped_squared = clipped_error * clipped_error;
  const float through_clip = change >= -clip && change <= clip ? 2.f * clipped_error : 0.f;
  if (squared > clipped_squared) {
    *gradient = 2.f * error;
  } else if (squared < clipped_squared) {
    *gradient = through_clip;
  } else {
    *gradient = 0.5f * (2.f * error + through_clip);
  }
  return std::max(squared, clipped_squared);
}

}  // namespace

LossValues minibatch_loss(const MinibatchTerms& t, const LossSettings& s, float* log_prob_gradient,
                          float* entropy_gradient, float* value_gradient) {
  LossValues out = ratio_statistics(t, s);
  const float clip = static_cast<float>(s.clip_coef);
  const float inverse_batch = 1.f / static_cast<float>(t.batch);
  const float value_scale = static_cast<float>(s.vf_coef * 0.5) * inverse_batch;
  const float entropy_scale = static_cast<float>(-s.ent_coef) * inverse_batch;
  double policy = 0, value = 0, entropy = 0;
  for (int i = 0; i < t.batch; ++i) {
    float g = 0.f;
    policy += surrogate(t.log_probs[i], t.old_log_probs[i], t.advantages[i], clip, &g);
    log_prob_gradient[i] = g * inverse_batch;
    value += value_error(t.values[i], t.old_values[i], t.returns[i], clip, s.clip_value_loss, &g);
    value_gradient[i] = g * value_scale;
    entropy += t.entropies[i];
    entropy_gradient[i] = entropy_scale;
  }
  out.policy_loss = policy / t.batch;
  out.value_loss = 0.5 * value / t.batch;
  out.entropy = entropy / t.batch;
  out.loss = out.policy_loss - s.ent_coef * out.entropy + s.vf_coef * out.value_loss;
  return out;
}

void normalize_advantages(const float* advantages, int batch, float* out) {
  if (batch < 2) {
    std::copy_n(advantages, batch, out);
    return;
  }
  double sum = 0;
  for (int i = 0; i < batch; ++i) sum += advantages[i];
  const double mean = sum / batch;
  double squares = 0;
  for (int i = 0; i < batch; ++i) squares += (advantages[i] - mean) * (advantages[i] - mean);
  const double scale = 1.0 / (std::sqrt(squares / (batch - 1)) + 1e-8);
  for (int i = 0; i < batch; ++i) out[i] = static_cast<float>((advantages[i] - mean) * scale);
}

namespace {

// Unbiased variance of element(i) for i < n, two passes in double, rounded to float.
template <typename Element>
float unbiased_variance(int64_t n, const Element& element) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += element(i);
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = element(i) - mean;
    squares += d * d;
  }
  return static_cast<float>(squares / static_cast<double>(n - 1));
}

}  // namespace

double explained_variance(const float* returns, const float* values, int64_t n) {
  if (n < 2) return NAN;
  const float variance = unbiased_variance(n, [&](int64_t i) { return returns[i]; });
  if (!(variance > 0)) return NAN;
  const float residual = unbiased_variance(n, [&](int64_t i) { return returns[i] - values[i]; });
  return 1.0 - static_cast<double>(residual / variance);
}

}  // namespace rl::ppo
