// Observation input and reward normalization shared by the agents.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <span>
#include <vector>

#include "core/running_stats.h"
#include "core/spaces.h"

namespace rl {

// Turns raw batch-first observation bytes into a float tensor [B, shape...]: f32 observations
// are wrapped without a copy, u8 ones converted and scaled.
class ObservationInput {
 public:
  // `scale` multiplies every element; 0 means auto: 1/high for u8 observations whose high bound
  // exceeds 1 (e.g. 1/255 for pixels), else 1.
  ObservationInput(const Space& space, double scale);

  // `data` holds `batch` observations; the tensor may alias it (do not free it while in use).
  torch::Tensor operator()(const uint8_t* data, int64_t batch) const;
  // The same values as plain floats, for code that computes without LibTorch: `data` itself
  // for f32 observations with scale 1, else `scratch` filled with the scaled values.
  const float* floats(const uint8_t* data, int64_t batch, std::vector<float>& scratch) const;
  size_t bytes() const { return bytes_; }
  double scale() const { return scale_; }

 private:
  std::vector<int64_t> shape_;  // With a leading batch placeholder.
  int64_t numel_ = 0;           // Elements per observation.
  bool u8_ = false;
  size_t bytes_ = 0;
  double scale_ = 1.0;
};

// Scales rewards by the running standard deviation of each env's discounted return, as
// Stable-Baselines3's VecNormalize (and Gymnasium's NormalizeReward) do: the return is
// R = gamma * R + r, reset at episode ends, and rewards become r / sqrt(var(R) + epsilon),
// clipped to [-clip, clip]. Keeps the value targets of the critic near unit scale.
class RewardNormalizer {
 public:
  RewardNormalizer(int num_envs, double gamma, double clip = 10.0, double epsilon = 1e-8);

  // Normalizes one vector-env step in place; `episode_ends` (1 = terminated or truncated)
  // restarts those envs' returns after this step.
  void normalize(std::span<float> rewards, std::span<const uint8_t> episode_ends);

  // Statistics of the discounted return (for checkpoints). load() throws std::invalid_argument
  // for malformed bytes.
  std::vector<uint8_t> save() const { return stats_.save(); }
  void load(std::span<const uint8_t> bytes);
  double return_variance() const { return stats_.variance(0); }
  // Each env's discounted return so far (for checkpoints: an exact resume continues them).
  // set_returns() throws std::invalid_argument unless it gets one finite value per env.
  std::span<const double> returns() const { return returns_; }
  void set_returns(std::span<const double> returns);

 private:
  double gamma_, clip_, epsilon_;
  std::vector<double> returns_;
  RunningStats stats_;
};

}  // namespace rl
