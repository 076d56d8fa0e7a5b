#include "agents/sac/sac_losses.h"

#include <algorithm>
#include <cmath>

namespace rl::sac {

void soft_targets(const float* rewards, const float* discounts, const float* q1, const float* q2,
                  const float* log_probs, float alpha, int batch, float* targets) {
  for (int i = 0; i < batch; ++i) {
    targets[i] = rewards[i] + discounts[i] * (std::min(q1[i], q2[i]) - alpha * log_probs[i]);
  }
}

double critic_loss(const float* q1, const float* q2, const float* targets, int batch,
                   float* q1_gradient, float* q2_gradient) {
  const float scale = 2.f / static_cast<float>(batch);
  double sum1 = 0, sum2 = 0;
  for (int i = 0; i < batch; ++i) {
    const float e1 = q1[i] - targets[i], e2 = q2[i] - targets[i];
    sum1 += static_cast<double>(e1) * e1;
    sum2 += static_cast<double>(e2) * e2;
    q1_gradient[i] = scale * e1;
    q2_gradient[i] = scale * e2;
  }
  return (sum1 + sum2) / batch;
}

double actor_loss(const float* q1, const float* q2, const float* log_probs, float alpha, int batch,
                  float* q1_gradient, float* q2_gradient, float* log_prob_gradient) {
  const float share = 1.f / static_cast<float>(batch);
  double sum = 0;
  for (int i = 0; i < batch; ++i) {
    const bool first = q1[i] <= q2[i];
    sum += static_cast<double>(alpha) * log_probs[i] - (first ? q1[i] : q2[i]);
    q1_gradient[i] = first ? -share : 0.f;
    q2_gradient[i] = first ? 0.f : -share;
    log_prob_gradient[i] = alpha * share;
  }
  return sum / batch;
}

double alpha_loss(const float* log_probs, int batch, double log_alpha, double target_entropy,
                  double* log_alpha_gradient) {
  double sum = 0;
  for (int i = 0; i < batch; ++i) sum += log_probs[i] + target_entropy;
  const double alpha = std::exp(log_alpha);
  *log_alpha_gradient = -alpha * sum / batch;
  return -alpha * sum / batch;
}

}  // namespace rl::sac
