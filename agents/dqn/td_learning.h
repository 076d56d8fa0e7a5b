// DQN's learning rule in one place: the TD targets and the loss they define.
//
// For a replayed transition (s, a, r, s') the target is
//
//   y = r + gamma^n (1 - terminated) Q_target(s', argmax over legal a' of Q_online(s', a'))
//
// with double DQN (van Hasselt et al. 2016: the online network picks the next action, the
// target network values it), or with plain DQN (Mnih et al. 2015)
//
//   y = r + gamma^n (1 - terminated) max over legal a' of Q_target(s', a').
//
// r is the discounted sum of the n rewards and gamma^n (1 - terminated) the discount, both as
// the replay buffer returns them (ReplayBatch::rewards and ::discounts; a transition that ends
// its episode early has a shorter n). "Legal" is the next state's action mask when the env
// gives one, else every action. The loss is the mean over the batch of
// weight * huber(Q_online(s, a) - y) (or the squared error), weight being the prioritized
// replay's importance weight (1 without it); y is a constant for the gradient.
#pragma once

#include <cstdint>

#include "agents/common/nn/q_heads.h"  // TdBatch, TdLoss: the loss is an engine head.

namespace rl {

// The TD targets of `batch` transitions, the equation above:
//   targets = rewards + discounts * next_state_values(next_target_q, next_online_q, ...).
// next_target_q and next_online_q are the networks' Q-values of the next states, [batch,
// actions] row-major; next_online_q is null for plain DQN (the max over Q_target). `legal` is
// null (every action is legal) or batch * actions bytes with a nonzero byte in each row.
void td_targets(const float* rewards, const float* discounts, const float* next_target_q,
                const float* next_online_q, const uint8_t* legal, int batch, int64_t actions,
                float* targets);

// The value each next state bootstraps from: next_target_q(s', a*), a* the legal argmax of
// next_online_q(s', .) (double DQN) or, when next_online_q is null, of next_target_q(s', .)
// (plain DQN: the max). Ties go to the lowest action. Writes batch floats to `values`.
void next_state_values(const float* next_target_q, const float* next_online_q, const uint8_t* legal,
                       int batch, int64_t actions, float* values);

// The action of highest q among the legal ones (`legal` null: all `actions` actions; else at
// least one nonzero byte), ties going to the lowest: greedy acting and the argmax above.
int64_t greedy_action(const float* q, const uint8_t* legal, int64_t actions);

}  // namespace rl
