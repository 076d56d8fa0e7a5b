// SAC's losses for Box actions on flat float buffers, with their gradients with respect to the
// networks' outputs, written once for every backend: the LibTorch backend feeds these
// gradients to autograd, the engine backend to its own backward passes.
//
//   soft target  y = r + discount * (min(Q1'(s', a'), Q2'(s', a')) - alpha * log pi(a'|s'))
//   critic loss  mean (Q1(s, a) - y)^2 + mean (Q2(s, a) - y)^2
//   actor loss   mean (alpha * log pi(a~|s) - min(Q1(s, a~), Q2(s, a~)))
//   alpha loss   -mean (exp(log_alpha) * (log pi(a~|s) + target_entropy))
#pragma once

namespace rl::sac {

// targets[i] = rewards[i] + discounts[i] * (min(q1, q2)[i] - alpha * log_probs[i]).
void soft_targets(const float* rewards, const float* discounts, const float* q1, const float* q2,
                  const float* log_probs, float alpha, int batch, float* targets);

// The critic loss, and its gradients d/dQ1 and d/dQ2 [batch].
double critic_loss(const float* q1, const float* q2, const float* targets, int batch,
                   float* q1_gradient, float* q2_gradient);

// The actor loss, and its gradients d/dQ1, d/dQ2 (nonzero where that critic is the minimum)
// and d/dlog_prob [batch].
double actor_loss(const float* q1, const float* q2, const float* log_probs, float alpha, int batch,
                  float* q1_gradient, float* q2_gradient, float* log_prob_gradient);

// The alpha loss, and its gradient with respect to log_alpha in `log_alpha_gradient`.
double alpha_loss(const float* log_probs, int batch, double log_alpha, double target_entropy,
                  double* log_alpha_gradient);

}  // namespace rl::sac
