// SAC's networks. Box actions: a Gaussian actor squashed by tanh (mean and state-dependent
// log-std heads, the log-std bounded smoothly into [log_std_min, log_std_max]) and critics
// Q(s, a) on the concatenated observation and action. Discrete actions (Christodoulou 2019):
// an actor producing logits and critics producing one Q-value per action.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <utility>
#include <vector>

#include "agents/common/torso.h"

namespace rl {

struct SacNetworkOptions {
  std::vector<int64_t> observation_shape;
  bool discrete = false;
  int64_t action_dim = 0;  // Actions (Discrete) or action elements (Box).
  TorsoOptions torso;
  double log_std_min = -5.0;
  double log_std_max = 2.0;
};

class SacActorImpl : public torch::nn::Module {
 public:
  explicit SacActorImpl(const SacNetworkOptions& options);
  // Box actions: {mean, log_std}, each [B, action_dim].
  std::pair<torch::Tensor, torch::Tensor> gaussian(const torch::Tensor& observations);
  // Discrete actions: logits [B, actions].
  torch::Tensor logits(const torch::Tensor& observations);
  const std::string& signature() const { return signature_; }
  // The layers, for computing the same networks outside LibTorch (agents/sac/sac_engine.h).
  const torch::nn::Sequential& torso() const { return torso_; }
  const torch::nn::Linear& mean_head() const { return mean_; }
  const torch::nn::Linear& log_std_head() const { return log_std_; }  // Null when discrete.
  bool discrete() const { return log_std_.is_empty(); }

 private:
  torch::nn::Sequential torso_{nullptr};
  torch::nn::Linear mean_{nullptr};  // Or the logits head.
  torch::nn::Linear log_std_{nullptr};
  double log_std_min_, log_std_max_;
  std::string signature_;
};
TORCH_MODULE(SacActor);

class SacCriticImpl : public torch::nn::Module {
 public:
  explicit SacCriticImpl(const SacNetworkOptions& options);
  // Box actions: Q(s, a) [B] for actions in [-1, 1]^D.
  torch::Tensor q(const torch::Tensor& observations, const torch::Tensor& actions);
  // Discrete actions: Q(s, .) [B, actions].
  torch::Tensor q_all(const torch::Tensor& observations);
  const std::string& signature() const { return signature_; }
  const torch::nn::Sequential& torso() const { return torso_; }
  const torch::nn::Linear& head() const { return head_; }

 private:
  torch::nn::Sequential torso_{nullptr};
  torch::nn::Linear head_{nullptr};
  std::string signature_;
};
TORCH_MODULE(SacCritic);

}  // namespace rl
