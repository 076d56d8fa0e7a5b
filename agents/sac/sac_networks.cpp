#include "agents/sac/sac_networks.h"

#include <stdexcept>

namespace rl {

SacActorImpl::SacActorImpl(const SacNetworkOptions& options)
    : log_std_min_(options.log_std_min), log_std_max_(options.log_std_max) {
  if (options.action_dim <= 0) throw std::invalid_argument("SAC needs at least one action");
  Torso torso = make_torso(options.torso, options.observation_shape);
  torso_ = register_module("torso", torso.net);
  mean_ = register_module("mean", torch::nn::Linear(torso.features, options.action_dim));
  if (!options.discrete) {
    log_std_ = register_module("log_std", torch::nn::Linear(torso.features, options.action_dim));
  }
  signature_ = "actor " + torso.signature + " -> " + std::to_string(options.action_dim) +
               (options.discrete ? " logits" : " tanh-gaussian");
}

std::pair<torch::Tensor, torch::Tensor> SacActorImpl::gaussian(const torch::Tensor& observations) {
  const torch::Tensor features = torso_->forward(observations);
  const torch::Tensor raw = torch::tanh(log_std_->forward(features));
  const torch::Tensor log_std = log_std_min_ + 0.5 * (log_std_max_ - log_std_min_) * (raw + 1.0);
  return {mean_->forward(features), log_std};
}

torch::Tensor SacActorImpl::logits(const torch::Tensor& observations) {
  return mean_->forward(torso_->forward(observations));
}

SacCriticImpl::SacCriticImpl(const SacNetworkOptions& options) {
  if (options.discrete) {
    Torso torso = make_torso(options.torso, options.observation_shape);
    torso_ = register_module("torso", torso.net);
    head_ = register_module("head", torch::nn::Linear(torso.features, options.action_dim));
    signature_ = "critic " + torso.signature + " -> " + std::to_string(options.action_dim) + " q";
    return;
  }
  // Q(s, a) takes the flattened observation and the action side by side.
  TorsoOptions mlp = options.torso;
  if (mlp.kind != "auto" && mlp.kind != "mlp") {
    throw std::invalid_argument("SAC with Box actions needs the mlp torso, got '" + mlp.kind + "'");
  }
  mlp.kind = "mlp";
  Torso torso = make_torso(mlp, {shape_product(options.observation_shape) + options.action_dim});
  torso_ = register_module("torso", torso.net);
  head_ = register_module("head", torch::nn::Linear(torso.features, 1));
  signature_ = "critic " + torso.signature + " -> q";
}

torch::Tensor SacCriticImpl::q(const torch::Tensor& observations, const torch::Tensor& actions) {
  const torch::Tensor input = torch::cat({observations.flatten(1), actions}, 1);
  return head_->forward(torso_->forward(input)).squeeze(-1);
}

torch::Tensor SacCriticImpl::q_all(const torch::Tensor& observations) {
  return head_->forward(torso_->forward(observations));
}

}  // namespace rl
