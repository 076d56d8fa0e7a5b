// The engine's fused optimizer: Adam, RMSprop or centred RMSprop over one contiguous buffer that
// holds every parameter of a module (the parameters become views into it, and so do their
// gradients). An update is then a handful of vector operations instead of a handful per parameter
// tensor: for the small networks of DQN that halves the optimizer's share of a gradient step. The
// arithmetic is PyTorch's (torch.optim.Adam; torch.optim.RMSprop: sq = alpha sq + (1 - alpha) g^2,
// p -= lr g / (sqrt(sq) + eps), eps outside the root; with centered=True the root is of
// sq - mean(g)^2, optionally with momentum: buf = momentum * buf + g / avg, p -= lr * buf).
#pragma once

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rl {

namespace distributed {
class Collectives;
}

struct FlatOptimizerOptions {
  enum class Kind { kAdam, kRmsprop, kCenteredRmsprop };
  Kind kind = Kind::kAdam;
  double lr = 1e-3;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double rmsprop_alpha = 0.99;
  double rmsprop_eps = 1e-8;
  double rmsprop_momentum = 0.0;  // Centred RMSprop: in [0, 1); 0 applies lr * g / avg directly.
};

class FlatOptimizer {
 public:
  // Moves every parameter of `module` into the flat buffer (values kept). Throws
  // std::invalid_argument for a momentum outside [0, 1) or momentum with Adam or plain RMSprop.
  FlatOptimizer(torch::nn::Module& module, FlatOptimizerOptions options);

  void zero_grad() { grads_.zero_(); }
  // Clips the global gradient norm to `max_grad_norm` (when > 0) and applies one update.
  // Returns the norm before clipping (0 when not clipping).
  double step(double max_grad_norm);
  // The learning rate of the following steps (for schedules).
  void set_lr(double lr) { options_.lr = lr; }

  // Re-attaches the parameters to the flat buffer after something replaced their storage
  // (Module::load does), keeping their current values.
  void rebind();

  void save(torch::serialize::OutputArchive& archive) const;
  // Throws std::runtime_error when the stored state does not fit these parameters. State saved
  // without a momentum buffer (before momentum existed, or with momentum 0) loads with a zero
  // buffer.
  void load(torch::serialize::InputArchive& archive);

  int64_t numel() const { return params_.numel(); }

  // Data-parallel training (agents/distributed/data_parallel.h): from now on every step first
  // replaces the gradients by their mean over the ranks (before clipping). Null turns it off.
  void average_gradients_over(distributed::Collectives* collectives) { collectives_ = collectives; }

 private:
  FlatOptimizerOptions options_;
  std::vector<torch::Tensor> parameters_;
  torch::Tensor params_, grads_;
  // Adam: m and v. RMSprop: second_ the mean square (first_ unused). Centred RMSprop: the mean
  // gradient and the mean square.
  torch::Tensor first_, second_;
  torch::Tensor momentum_;  // RMSprop with momentum: the momentum buffer, else undefined.
  int64_t steps_ = 0;
  distributed::Collectives* collectives_ = nullptr;
};

}  // namespace rl
