#include "agents/common/nn/twin_q.h"

#include <algorithm>
#include <stdexcept>

#include "core/thread_pool.h"

namespace rl::nn {

TwinQ::TwinQ(std::vector<torch::nn::Linear> first, std::vector<torch::nn::Linear> second,
             Activation activation, int observation_size, int action_size)
    : first_(std::move(first), activation),
      second_(std::move(second), activation),
      observation_size_(observation_size),
      action_size_(action_size) {
  for (const DenseStack* q : {&first_, &second_}) {
    if (q->input_size() != observation_size + action_size || q->output_size() != 1) {
      throw std::invalid_argument("twin Q: a critic takes " + std::to_string(q->input_size()) +
                                  " inputs and gives " + std::to_string(q->output_size()) +
                                  " outputs, expected " +
                                  std::to_string(observation_size + action_size) + " and 1");
    }
  }
}

TwinQ::Values TwinQ::forward(const float* observations, const float* actions, int batch) {
  const size_t width = static_cast<size_t>(observation_size_ + action_size_);
  if (input_.size() < batch * width) input_.resize(batch * width);
  for (int r = 0; r < batch; ++r) {
    float* row = input_.data() + r * width;
    std::copy_n(observations + static_cast<size_t>(r) * observation_size_, observation_size_, row);
    std::copy_n(actions + static_cast<size_t>(r) * action_size_, action_size_,
                row + observation_size_);
  }
  const float* input = input_.data();
  const float* outputs[2] = {};
  for_both([&](DenseStack& q, int i) { outputs[i] = q.forward(input, batch); });
  return {outputs[0], outputs[1]};
}

template <typename Run>
void TwinQ::for_both(const Run& run) {
  if (!pool_) {
    run(first_, 0);
    run(second_, 1);
    return;
  }
  // The lambda holds two pointers: std::function keeps it without allocating.
  pool_->parallel_for(2, [this, &run](int i) { run(i == 0 ? first_ : second_, i); });
}

const float* TwinQ::backward(float* q1_gradient, float* q2_gradient, int batch, BackwardMode mode) {
  float* output_gradients[2] = {q1_gradient, q2_gradient};
  const float* input_gradients[2] = {};
  for_both([&](DenseStack& q, int i) {
    input_gradients[i] = q.backward(output_gradients[i], batch, mode);
  });
  const float *d1 = input_gradients[0], *d2 = input_gradients[1];
  if (!mode.input_gradient) return nullptr;
  const size_t size = static_cast<size_t>(batch) * action_size_;
  if (action_gradient_.size() < size) action_gradient_.resize(size);
  const size_t width = static_cast<size_t>(observation_size_ + action_size_);
  for (int r = 0; r < batch; ++r) {
    for (int d = 0; d < action_size_; ++d) {
      const size_t i = r * width + observation_size_ + d;
      action_gradient_[static_cast<size_t>(r) * action_size_ + d] = d1[i] + d2[i];
    }
  }
  return action_gradient_.data();
}

}  // namespace rl::nn
