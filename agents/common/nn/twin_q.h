// Twin Q critics Q1(s, a), Q2(s, a) over the concatenated [observation, action] input, each a
// DenseStack with one output, evaluated on one shared input buffer. Given a two-thread pool,
// the two critics run side by side, one per thread: each critic's arithmetic is the same
// either way, so the results are bit-identical with one thread or two.
#pragma once

#include <torch/nn/modules/linear.h>

#include <vector>

#include "agents/common/nn/dense_stack.h"

namespace rl {
class ThreadPool;
}

namespace rl::nn {

class TwinQ {
 public:
  TwinQ() = default;
  // `first` and `second`: each critic's layers, hidden layers followed by `activation`, the
  // last giving one value. Throws std::invalid_argument when the two do not take
  // observation_size + action_size inputs or give one output.
  TwinQ(std::vector<torch::nn::Linear> first, std::vector<torch::nn::Linear> second,
        Activation activation, int observation_size, int action_size);

  // Q1 and Q2 [batch] of observations [batch, observation_size] and actions
  // [batch, action_size]. The pointers stay valid until the next forward().
  struct Values {
    const float* q1;
    const float* q2;
  };
  Values forward(const float* observations, const float* actions, int batch);
  // From d loss / d Q1 and d Q2 [batch] of the last forward (both may be overwritten):
  // parameter gradients (when asked) and, when asked, d loss / d action [batch, action_size]
  // summed over both critics (else nullptr).
  const float* backward(float* q1_gradient, float* q2_gradient, int batch, BackwardMode mode);

  // From now on forward() and backward() run Q2 on the pool's second thread while Q1 runs on
  // the calling one (`pool` must have two threads and outlive this; null: one thread).
  void run_on(ThreadPool* pool) { pool_ = pool; }

 private:
  // Calls run(first_, 0) and run(second_, 1), on the two threads of pool_ when set.
  template <typename Run>
  void for_both(const Run& run);

  DenseStack first_, second_;
  ThreadPool* pool_ = nullptr;
  int observation_size_ = 0, action_size_ = 0;
  std::vector<float> input_, action_gradient_;
};

}  // namespace rl::nn
