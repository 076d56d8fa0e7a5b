// Q-value heads of the engine: the TD loss of a batch of Q-values and its gradient, and the
// dueling combination Q = V + A - mean(A) with its backward pass. Plain float buffers, no
// allocation; the networks in front of them are DenseStack or ConvStack.
#pragma once

#include <cstdint>

namespace rl {

// One replayed batch for a TD-loss gradient.
struct TdBatch {
  int size = 0;
  const uint8_t* observations = nullptr;  // size raw observations.
  const int64_t* actions = nullptr;       // size actions taken.
  const float* targets = nullptr;         // size TD targets y (constants for the gradient).
  const float* weights = nullptr;         // size importance weights, or null for all 1.
  bool huber = true;                      // Smooth L1 (beta 1), else squared error.
};

struct TdLoss {
  double loss = 0;    // Mean over the batch of weight * elementwise loss.
  double q_mean = 0;  // Mean of Q(s, a) over the batch.
};

namespace nn {

// The TD loss mean over b of weight[b] * loss(q[b, action[b]] - target[b]) (Huber with beta 1,
// or the squared error) for q [td.size, actions] row-major, its gradient with respect to q
// written into dq (td.size * actions floats, zero off the taken actions) and |q(s, a) - y|
// into abs_td_errors (td.size floats) when not null. Throws std::out_of_range naming the row
// for an action outside [0, actions).
TdLoss td_loss_gradient(const float* q, int64_t actions, const TdBatch& td, float* dq,
                        float* abs_td_errors);

// Dueling head (Wang et al. 2016): q[b, a] = value[b] + advantages[b, a] - mean_a advantages[b].
// `q` may alias `advantages`.
void dueling_combine(const float* advantages, const float* value, int batch, int64_t actions,
                     float* q);

// The gradients of dueling_combine: from dq [batch, actions], d advantages [batch, actions]
// (dq minus its row mean) and d value [batch] (row sums of dq). `d_advantages` may alias dq.
void dueling_backward(const float* dq, int batch, int64_t actions, float* d_advantages,
                      float* d_value);

}  // namespace nn
}  // namespace rl
