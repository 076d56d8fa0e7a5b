// Action distributions of the actor-critic agents, as thin views over batches of tensors.
// Sampling draws from a caller-owned torch::Generator (every agent owns one and saves its state
// in checkpoints), never from the global one.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <utility>

namespace rl {

// Categorical distribution over the last axis of `logits` [B, A]. An optional legal-action
// mask (bool or u8 [B, A], nonzero = legal) gives illegal actions probability 0: they are never
// sampled or chosen by mode(), and add nothing to the entropy.
class Categorical {
 public:
  explicit Categorical(torch::Tensor logits, const torch::Tensor& legal_mask = {});

  torch::Tensor sample(at::Generator& generator) const;          // [B] int64
  torch::Tensor mode() const;                                    // [B] int64, most likely action
  torch::Tensor log_prob(const torch::Tensor& actions) const;    // actions [B] int64 -> [B]
  torch::Tensor entropy() const;                                 // [B]
  const torch::Tensor& log_probs() const { return log_probs_; }  // [B, A], normalized
  torch::Tensor probs() const { return log_probs_.exp(); }

 private:
  torch::Tensor log_probs_;
};

// Diagonal Gaussian over the last axis: mean [B, D], log_std broadcastable to it (PPO and A2C
// use one state-independent log-std parameter per action dimension).
class DiagGaussian {
 public:
  DiagGaussian(torch::Tensor mean, torch::Tensor log_std);

  torch::Tensor sample(at::Generator& generator) const;        // [B, D]
  torch::Tensor mode() const { return mean_; }                 // [B, D]
  torch::Tensor log_prob(const torch::Tensor& actions) const;  // summed over D -> [B]
  torch::Tensor entropy() const;                               // summed over D -> [B]

 private:
  torch::Tensor mean_, log_std_;
};

// A Gaussian squashed through tanh (SAC): actions lie in (-1, 1). The density includes the
// change of variables: log p(a) = log N(u) - sum log(1 - tanh(u)^2), a = tanh(u), with the
// log-derivative computed stably as 2 (log 2 - u - softplus(-2u)).
class TanhGaussian {
 public:
  TanhGaussian(torch::Tensor mean, torch::Tensor log_std);

  // Reparameterized sample (gradients flow to mean and log_std): {action [B, D], log_prob [B]}.
  std::pair<torch::Tensor, torch::Tensor> rsample(at::Generator& generator) const;
  torch::Tensor mode() const { return torch::tanh(mean_); }
  // log p of pre-squash values `u` [B, D] (the action is tanh(u)) -> [B].
  torch::Tensor log_prob_pre_tanh(const torch::Tensor& u) const;

 private:
  torch::Tensor mean_, log_std_;
};

// log N(x; mean, exp(log_std)) per element (no sum).
torch::Tensor gaussian_log_density(const torch::Tensor& x, const torch::Tensor& mean,
                                   const torch::Tensor& log_std);

// A CPU generator seeded with `seed`.
at::Generator make_generator(uint64_t seed);

}  // namespace rl
