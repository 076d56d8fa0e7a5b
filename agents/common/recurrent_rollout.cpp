#include "agents/common/recurrent_rollout.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rl {

RecurrentRollout::RecurrentRollout(int64_t num_steps, int num_envs, int64_t state_size,
                                   int64_t sequence_length)
    : num_steps_(num_steps),
      num_envs_(num_envs),
      state_size_(state_size),
      sequence_length_(sequence_length == 0 ? num_steps : sequence_length) {
  if (num_steps_ % sequence_length_ != 0) {
    throw std::invalid_argument("recurrent.sequence_length (" + std::to_string(sequence_length) +
                                ") must divide num_steps (" + std::to_string(num_steps) + ")");
  }
  acting_ = {num_envs, state_size,
             std::vector<float>(static_cast<size_t>(num_envs * state_size), 0.f)};
  states_.resize(static_cast<size_t>(num_steps * num_envs * state_size));
  starts_.resize(static_cast<size_t>(num_steps * num_envs));
  restart();
}

void RecurrentRollout::restart() {
  std::fill(acting_.values.begin(), acting_.values.end(), 0.f);
  starting_.assign(static_cast<size_t>(num_envs_), 1);
}

void RecurrentRollout::begin_step(int step) {
  const size_t envs = static_cast<size_t>(num_envs_);
  for (size_t i = 0; i < envs; ++i) {
    if (starting_[i]) acting_.reset(static_cast<int>(i));
    starts_[step * envs + i] = starting_[i] ? 1.f : 0.f;
  }
  std::copy(acting_.values.begin(), acting_.values.end(),
            states_.begin() + static_cast<std::ptrdiff_t>(step * envs * state_size_));
  std::fill(starting_.begin(), starting_.end(), uint8_t{0});
}

void RecurrentRollout::end_step(std::span<const uint8_t> episode_ends) {
  for (size_t i = 0; i < starting_.size(); ++i) starting_[i] = episode_ends[i] != 0;
}

RecurrentRollout::Batch RecurrentRollout::gather(const int64_t* ids, int64_t count) const {
  const int64_t length = sequence_length_;
  Batch batch{torch::empty({length * count}, torch::kInt64),
              torch::empty({count, state_size_}, torch::kFloat32),
              torch::empty({length, count}, torch::kFloat32)};
  int64_t* rows = batch.rows.data_ptr<int64_t>();
  float* state = batch.state.data_ptr<float>();
  float* starts = batch.starts.data_ptr<float>();
  for (int64_t b = 0; b < count; ++b) {
    if (ids[b] < 0 || ids[b] >= sequences()) {
      throw std::out_of_range("recurrent rollout: sequence " + std::to_string(ids[b]) +
                              " outside [0, " + std::to_string(sequences()) + ")");
    }
    const int64_t env = ids[b] % num_envs_;
    const int64_t first = ids[b] / num_envs_ * length;
    std::copy_n(states_.data() + (first * num_envs_ + env) * state_size_, state_size_,
                state + b * state_size_);
    for (int64_t t = 0; t < length; ++t) {
      const int64_t row = (first + t) * num_envs_ + env;
      rows[t * count + b] = row;
      starts[t * count + b] = starts_[static_cast<size_t>(row)];
    }
  }
  return batch;
}

}  // namespace rl
