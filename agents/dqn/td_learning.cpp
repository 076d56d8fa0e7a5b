#include "agents/dqn/td_learning.h"

namespace rl {

void td_targets(const float* rewards, const float* discounts, const float* next_target_q,
                const float* next_online_q, const uint8_t* legal, int batch, int64_t actions,
                float* targets) {
  next_state_values(next_target_q, next_online_q, legal, batch, actions, targets);
  for (int i = 0; i < batch; ++i) targets[i] = rewards[i] + discounts[i] * targets[i];
}

void next_state_values(const float* next_target_q, const float* next_online_q, const uint8_t* legal,
                       int batch, int64_t actions, float* values) {
  // The action the value is taken at: the best legal one by the online network (double DQN)
  // or by the target network itself.
  const float* chooser = next_online_q ? next_online_q : next_target_q;
  for (int i = 0; i < batch; ++i) {
    const int64_t row = i * actions;
    values[i] =
        next_target_q[row + greedy_action(chooser + row, legal ? legal + row : nullptr, actions)];
  }
}

int64_t greedy_action(const float* q, const uint8_t* legal, int64_t actions) {
  int64_t best = -1;
  for (int64_t a = 0; a < actions; ++a) {
    if ((!legal || legal[a]) && (best < 0 || q[a] > q[best])) best = a;
  }
  return best;
}

}  // namespace rl
