#include "agents/common/preprocess.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace rl {

ObservationInput::ObservationInput(const Space& space, double scale) {
  if (space.is_discrete()) {
    throw std::invalid_argument("the agent needs Box observations, got " + space.describe());
  }
  shape_ = {0};
  shape_.insert(shape_.end(), space.shape.begin(), space.shape.end());
  u8_ = space.dtype == DType::kU8;
  bytes_ = space.bytes();
  numel_ = space.numel();
  scale_ = scale;
  if (scale_ <= 0) {
    scale_ = 1.0;
    if (u8_ && !space.high.empty()) {
      const float high = *std::max_element(space.high.begin(), space.high.end());
      if (high > 1.f) scale_ = 1.0 / high;
    }
  }
}

torch::Tensor ObservationInput::operator()(const uint8_t* data, int64_t batch) const {
  std::vector<int64_t> shape = shape_;
  shape[0] = batch;
  void* raw = const_cast<uint8_t*>(data);  // from_blob wants non-const; never written.
  torch::Tensor input = u8_ ? torch::from_blob(raw, shape, torch::kUInt8).to(torch::kFloat32)
                            : torch::from_blob(raw, shape, torch::kFloat32);
  if (scale_ != 1.0) input = input * scale_;
  return input;
}

const float* ObservationInput::floats(const uint8_t* data, int64_t batch,
                                      std::vector<float>& scratch) const {
  const float* values = reinterpret_cast<const float*>(data);
  if (!u8_ && scale_ == 1.0) return values;
  const int64_t count = batch * numel_;
  scratch.resize(static_cast<size_t>(count));
  const float scale = static_cast<float>(scale_);
  for (int64_t i = 0; i < count; ++i) {
    scratch[i] = (u8_ ? static_cast<float>(data[i]) : values[i]) * scale;
  }
  return scratch.data();
}

RewardNormalizer::RewardNormalizer(int num_envs, double gamma, double clip, double epsilon)
    : gamma_(gamma), clip_(clip), epsilon_(epsilon), returns_(num_envs, 0.0), stats_(1) {}

void RewardNormalizer::normalize(std::span<float> rewards, std::span<const uint8_t> episode_ends) {
  if (rewards.size() != returns_.size() || episode_ends.size() != returns_.size()) {
    throw std::invalid_argument("reward normalizer: expected " + std::to_string(returns_.size()) +
                                " rewards and episode ends");
  }
  for (size_t i = 0; i < rewards.size(); ++i) {
    returns_[i] = gamma_ * returns_[i] + rewards[i];
    const float sample = static_cast<float>(returns_[i]);
    stats_.add(std::span<const float>(&sample, 1));
  }
  const double scale = 1.0 / std::sqrt(stats_.variance(0) + epsilon_);
  for (size_t i = 0; i < rewards.size(); ++i) {
    rewards[i] = static_cast<float>(std::clamp(rewards[i] * scale, -clip_, clip_));
    if (episode_ends[i]) returns_[i] = 0.0;
  }
}

void RewardNormalizer::load(std::span<const uint8_t> bytes) {
  RunningStats loaded = RunningStats::load(bytes);
  if (loaded.dim() != 1) {
    throw std::invalid_argument("reward normalizer: the saved statistics are not one-dimensional");
  }
  stats_ = loaded;
}

void RewardNormalizer::set_returns(std::span<const double> returns) {
  if (returns.size() != returns_.size()) {
    throw std::invalid_argument("reward normalizer: " + std::to_string(returns.size()) +
                                " saved returns for " + std::to_string(returns_.size()) + " envs");
  }
  for (double r : returns) {
    if (!std::isfinite(r))
      throw std::invalid_argument("reward normalizer: a saved return is not finite");
  }
  returns_.assign(returns.begin(), returns.end());
}

}  // namespace rl
