// A2C's loss over a whole rollout on flat float buffers, with its gradients with respect to the
// network's outputs (log-probabilities, entropies, values), for the engine backend (the LibTorch
// backend writes the same terms with tensors in a2c_agent.cpp; tests/agents/a2c_engine_test.cpp
// checks that they agree):
//
//   policy loss  -mean(A log_prob)
//   value loss   mean (R - V)^2
//   loss         policy loss - ent_coef * mean entropy + vf_coef * value loss
#pragma once

namespace rl::a2c {

struct LossSettings {
  double ent_coef = 0.0;
  double vf_coef = 0.5;
};

// The rollout's inputs [batch] each.
struct RolloutTerms {
  const float* log_probs;  // Under the current policy.
  const float* entropies;
  const float* values;      // Current V(s).
  const float* advantages;  // Already normalized when A2C normalizes them.
  const float* returns;
  int batch;
};

struct LossValues {
  double loss = 0;  // The total.
  double policy_loss = 0, value_loss = 0, entropy = 0;
};

// The loss and its gradients with respect to log_probs, entropies and values [batch] each.
LossValues rollout_loss(const RolloutTerms& terms, const LossSettings& settings,
                        float* log_prob_gradient, float* entropy_gradient, float* value_gradient);

}  // namespace rl::a2c
