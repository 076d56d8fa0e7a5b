#include "agents/a2c/a2c_losses.h"

namespace rl::a2c {

LossValues rollout_loss(const RolloutTerms& t, const LossSettings& s, float* log_prob_gradient,
                        float* entropy_gradient, float* value_gradient) {
  const float inverse_batch = 1.f / static_cast<float>(t.batch);
  const float value_scale = static_cast<float>(2.0 * s.vf_coef) * inverse_batch;
  const float entropy_scale = static_cast<float>(-s.ent_coef) * inverse_batch;
  double policy = 0, value = 0, entropy = 0;
  for (int i = 0; i < t.batch; ++i) {
    policy += -static_cast<double>(t.advantages[i]) * t.log_probs[i];
    log_prob_gradient[i] = -t.advantages[i] * inverse_batch;
    const float error = t.values[i] - t.returns[i];
    value += static_cast<double>(error) * error;
    value_gradient[i] = error * value_scale;
    entropy += t.entropies[i];
    entropy_gradient[i] = entropy_scale;
  }
  LossValues out;
  out.policy_loss = policy / t.batch;
  out.value_loss = value / t.batch;
  out.entropy = entropy / t.batch;
  out.loss = out.policy_loss - s.ent_coef * out.entropy + s.vf_coef * out.value_loss;
  return out;
}

}  // namespace rl::a2c
