// The policy distributions of A2C and PPO computed on flat float buffers, forward and backward,
// for the small-network engine: a categorical over logits (with optional legal-action masks)
// and a diagonal Gaussian with a state-independent log-std. The values match
// agents/common/distributions.h (the LibTorch reference): illegal actions get the logit -1e8,
// so their probability is exactly 0 and they add nothing to the entropy.
//
// Layout: row-major [batch, actions] (or [batch, action_dim]) buffers; masks are u8, nonzero =
// legal. Gradients are of a loss with respect to the per-row log-probabilities and entropies.
#pragma once

#include <cstdint>
#include <vector>

namespace rl::nn {

class CategoricalHead {
 public:
  explicit CategoricalHead(int64_t actions = 0) : actions_(actions) {}

  // Normalizes `logits` [batch, actions] into log-probabilities (kept for the calls below);
  // `legal` [batch, actions] may be null (all legal).
  void forward(const float* logits, const uint8_t* legal, int batch);
  // Draws actions by inverting the CDF at `uniforms` [batch] in [0, 1), or takes the most likely
  // action when `uniforms` is null; `log_probs` [batch] may be null.
  void sample(const float* uniforms, int batch, int64_t* actions, float* log_probs) const;
  // Log-probabilities of `actions` and entropies [batch] each.
  void evaluate(const int64_t* actions, int batch, float* log_probs, float* entropies) const;
  // d loss / d logits [batch, actions] from d loss / d log_prob(actions) and d loss / d entropy.
  void backward(const int64_t* actions, const float* log_prob_gradient,
                const float* entropy_gradient, int batch, float* logit_gradient) const;
  // Log-probabilities [actions] of row `row` of the last forward pass.
  const float* log_probs(int row) const { return log_probs_.data() + row * actions_; }

 private:
  int64_t actions_;
  std::vector<float> log_probs_;  // [batch, actions]
};

// Diagonal Gaussian N(mean, exp(log_std)^2) with one log-std per action dimension.
class DiagGaussianHead {
 public:
  explicit DiagGaussianHead(int64_t action_dim = 0)
      : dim_(action_dim), std_(action_dim), inverse_std_(action_dim) {}

  // actions = mean + exp(log_std) * noise (noise [batch, dim]), or the mean when `noise` is
  // null; `log_probs` [batch] of those actions may be null.
  void sample(const float* mean, const float* log_std, const float* noise, int batch,
              float* actions, float* log_probs) const;
  // Log-probabilities (summed over dimensions) and entropies [batch] of `actions`.
  void evaluate(const float* mean, const float* log_std, const float* actions, int batch,
                float* log_probs, float* entropies) const;
  // d loss / d mean [batch, dim] and d loss / d log_std [dim] (overwritten).
  void backward(const float* mean, const float* log_std, const float* actions,
                const float* log_prob_gradient, const float* entropy_gradient, int batch,
                float* mean_gradient, float* log_std_gradient) const;

 private:
  // exp(-log_std) [dim] into inverse_std_ (each once per call, not once per row).
  const float* inverse_stds(const float* log_std) const;

  int64_t dim_;
  mutable std::vector<float> std_, inverse_std_;  // Per-call scratch [dim].
};

}  // namespace rl::nn
