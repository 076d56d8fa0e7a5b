#include "agents/common/actor_critic.h"

#include <stdexcept>

namespace rl {

ActorCriticImpl::ActorCriticImpl(const ActorCriticOptions& options) {
  if (options.action_dim <= 0) {
    throw std::invalid_argument("the actor-critic network needs at least one action");
  }
  Torso actor = make_torso(options.torso, options.observation_shape);
  actor_torso_ = register_module("actor_torso", actor.net);
  if (options.recurrent.enabled()) {
    core_ = register_module("recurrent", RecurrentCore(options.recurrent, actor.features));
    actor.features = core_->head_features();
    actor.signature += " -> " + core_->signature();
  }
  int64_t critic_features = actor.features;
  if (!options.shared_torso && !options.recurrent.enabled()) {
    Torso critic = make_torso(options.torso, options.observation_shape);
    critic_torso_ = register_module("critic_torso", critic.net);
    critic_features = critic.features;
  }
  // Small initial policy weights keep the first policy near uniform (or near the mean 0).
  actor_head_ =
      register_module("actor_head", torch::nn::Linear(actor.features, options.action_dim));
  orthogonal_init(*actor_head_, 0.01);
  critic_head_ = register_module("critic_head", torch::nn::Linear(critic_features, 1));
  orthogonal_init(*critic_head_, 1.0);
  if (!options.discrete) {
    log_std_ =
        register_parameter("log_std", torch::full({options.action_dim}, options.initial_log_std));
  }
  signature_ = actor.signature + (options.shared_torso || recurrent() ? " shared" : " separate") +
               " -> " + std::to_string(options.action_dim) +
               (options.discrete ? " logits" : " gaussian") + " + value";
}

PolicyOutput ActorCriticImpl::forward(const torch::Tensor& observations) {
  if (recurrent()) throw std::logic_error("a recurrent network needs its state: forward_step");
  const torch::Tensor actor_features = actor_torso_->forward(observations);
  const torch::Tensor critic_features =
      critic_torso_ ? critic_torso_->forward(observations) : actor_features;
  return {actor_head_->forward(actor_features), critic_head_->forward(critic_features).squeeze(-1)};
}

torch::Tensor ActorCriticImpl::value(const torch::Tensor& observations) {
  if (recurrent()) throw std::logic_error("a recurrent network needs its state: forward_step");
  const torch::Tensor features =
      critic_torso_ ? critic_torso_->forward(observations) : actor_torso_->forward(observations);
  return critic_head_->forward(features).squeeze(-1);
}

PolicyOutput ActorCriticImpl::heads(const torch::Tensor& features) {
  if (core_ && core_->split_outputs()) {  // The actor's outputs, then the critic's.
    const int64_t half = core_->head_features();
    return {actor_head_->forward(features.narrow(-1, 0, half)),
            critic_head_->forward(features.narrow(-1, half, half)).squeeze(-1)};
  }
  return {actor_head_->forward(features), critic_head_->forward(features).squeeze(-1)};
}

PolicyOutput ActorCriticImpl::forward_step(const torch::Tensor& observations,
                                           const torch::Tensor& state, torch::Tensor& next_state) {
  return heads(core_->step(actor_torso_->forward(observations), state, next_state));
}

PolicyOutput ActorCriticImpl::forward_sequence(const torch::Tensor& observations,
                                               const torch::Tensor& state,
                                               const torch::Tensor& starts) {
  const int64_t steps = starts.size(0), batch = starts.size(1);
  const torch::Tensor features = actor_torso_->forward(observations);
  const torch::Tensor outputs =
      core_->sequence(features.reshape({steps, batch, features.size(1)}), state, starts);
  return heads(outputs.reshape({steps * batch, outputs.size(2)}));
}

}  // namespace rl
