#include "agents/common/nn/q_heads.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace rl::nn {

TdLoss td_loss_gradient(const float* q, int64_t actions, const TdBatch& td, float* dq,
                        float* abs_td_errors) {
  const int batch = td.size;
  std::fill(dq, dq + batch * actions, 0.f);
  const float inverse_batch = 1.f / static_cast<float>(batch);
  double loss_sum = 0, q_sum = 0;
  for (int b = 0; b < batch; ++b) {
    const int64_t action = td.actions[b];
    if (action < 0 || action >= actions) {
      throw std::out_of_range("TD loss: row " + std::to_string(b) + " has action " +
                              std::to_string(action) + ", outside [0, " + std::to_string(actions) +
                              ")");
    }
    const float q_taken = q[b * actions + action];
    const float error = q_taken - td.targets[b];
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
    q_sum += q_taken;
    dq[b * actions + action] = slope * weight * inverse_batch;
    if (abs_td_errors) abs_td_errors[b] = magnitude;
  }
  return {loss_sum / batch, q_sum / batch};
}

void dueling_combine(const float* advantages, const float* value, int batch, int64_t actions,
                     float* q) {
  for (int b = 0; b < batch; ++b) {
    const float* a = advantages + b * actions;
    float mean = 0.f;
    for (int64_t i = 0; i < actions; ++i) mean += a[i];
    mean /= static_cast<float>(actions);
    const float shift = value[b] - mean;
    float* out = q + b * actions;
    for (int64_t i = 0; i < actions; ++i) out[i] = a[i] + shift;
  }
}

void dueling_backward(const float* dq, int batch, int64_t actions, float* d_advantages,
                      float* d_value) {
  for (int b = 0; b < batch; ++b) {
    const float* g = dq + b * actions;
    float sum = 0.f;
    for (int64_t i = 0; i < actions; ++i) sum += g[i];
    const float mean = sum / static_cast<float>(actions);
    float* out = d_advantages + b * actions;
    for (int64_t i = 0; i < actions; ++i) out[i] = g[i] - mean;
    d_value[b] = sum;
  }
}

}  // namespace rl::nn
