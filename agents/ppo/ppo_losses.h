// PPO's minibatch loss on flat float buffers, with its gradients with respect to the network's
// outputs (log-probabilities, entropies, values), for the engine backend (the LibTorch backend
// writes the same terms with tensors in ppo_agent.cpp; tests/agents/ppo_engine_test.cpp checks
// that they agree):
//
//   ratio        r = exp(log_prob - old_log_prob)
//   policy loss  mean max(-A r, -A clip(r, 1 - c, 1 + c))
//   value loss   0.5 mean (V - R)^2, or with value clipping
//                0.5 mean max((V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2)
//   loss         policy loss - ent_coef * mean entropy + vf_coef * value loss
//
// Where the two sides of a max are equal, the gradient is split between them as autograd does.
#pragma once

#include <cstdint>

namespace rl::ppo {

struct LossSettings {
  double clip_coef = 0.2;
  bool clip_value_loss = true;
  double ent_coef = 0.0;
  double vf_coef = 0.5;
};

// One minibatch's inputs [batch] each.
struct MinibatchTerms {
  const float* log_probs;      // Under the current policy.
  const float* old_log_probs;  // Under the rollout policy.
  const float* advantages;     // Already normalized when PPO normalizes them.
  const float* entropies;
  const float* values;      // Current V(s).
  const float* old_values;  // The rollout's V(s).
  const float* returns;
  int batch;
};

struct LossValues {
  double loss = 0;  // The total.
  double policy_loss = 0, value_loss = 0, entropy = 0;
  double approx_kl = 0;            // mean (r - 1) - log r
  double clip_fraction = 0;        // Fraction of rows with |r - 1| > clip_coef.
  double max_ratio_deviation = 0;  // max |r - 1|
};

// The statistics of the ratio only (approx_kl, clip_fraction, max_ratio_deviation; the rest
// left 0): for the target_kl check before any gradient is computed.
LossValues ratio_statistics(const MinibatchTerms& terms, const LossSettings& settings);

// The loss and its gradients with respect to log_probs, entropies and values [batch] each.
LossValues minibatch_loss(const MinibatchTerms& terms, const LossSettings& settings,
                          float* log_prob_gradient, float* entropy_gradient, float* value_gradient);

// out = (advantages - mean) / (std + 1e-8), the std unbiased, as PPO's per-minibatch
// normalization; a single row is copied unchanged.
void normalize_advantages(const float* advantages, int batch, float* out);

// 1 - Var(returns - values) / Var(returns) over `n` rows, each variance unbiased, accumulated in
// double and rounded to float as torch.var of float tensors is; NaN when Var(returns) is 0 (or
// n < 2). The update's explained_variance metric, without tensors.
double explained_variance(const float* returns, const float* values, int64_t n);

}  // namespace rl::ppo
