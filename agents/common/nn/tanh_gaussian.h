// The tanh-squashed diagonal Gaussian policy head of SAC on flat float buffers: the log-std
// head's raw outputs are bounded smoothly into [log_std_min, log_std_max]
// (log_std = min + (max - min) (tanh(raw) + 1) / 2), u = mean + exp(log_std) * noise is
// reparameterised with standard normal noise, the action is tanh(u), and its log-probability
// carries the tanh change-of-variables correction (-log(1 - tanh(u)^2), computed stably as
// 2 (log 2 - u - softplus(-2u))), summed over the action dimensions.
#pragma once

#include <vector>

namespace rl::nn {

class TanhGaussianHead {
 public:
  TanhGaussianHead(double log_std_min, double log_std_max);

  // Samples `batch` x `dim` actions in (-1, 1) from mean and raw log-std [batch, dim] with the
  // given standard normal noise [batch, dim]; writes actions [batch, dim] and their
  // log-probabilities [batch]. Keeps what backward() needs.
  void sample(const float* mean, const float* raw_log_std, const float* noise, int batch, int dim,
              float* actions, float* log_probs);
  // The deterministic action tanh(mean) [batch, dim].
  static void mode(const float* mean, int batch, int dim, float* actions);

  // From d loss / d action [batch, dim] and d loss / d log-prob [batch] of the last sample():
  // d loss / d mean and d loss / d raw log-std [batch, dim].
  void backward(const float* action_gradient, const float* log_prob_gradient, float* mean_gradient,
                float* raw_log_std_gradient) const;

 private:
  float log_std_min_, log_std_half_range_;
  int batch_ = 0, dim_ = 0;
  // From the last sample: actions, tanh(raw), exp(log_std) * noise.
  std::vector<float> actions_, bounded_, spread_;
};

}  // namespace rl::nn
