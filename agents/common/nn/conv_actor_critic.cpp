#include "agents/common/nn/conv_actor_critic.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <stdexcept>

namespace rl::nn {

namespace {

// The conv and hidden layers of a MinAtar CNN torso (Conv2d, ReLU, Flatten, Linear, ReLU), or
// null layers when `torso` is anything else.
ConvTorsoLayers minatar_layers(const torch::nn::Sequential& torso) {
  if (!torso) return {};
  const auto children = torso->children();
  if (children.size() != 5 || !children[1]->as<torch::nn::ReLU>() ||
      !children[2]->as<torch::nn::Flatten>() || !children[4]->as<torch::nn::ReLU>()) {
    return {};
  }
  auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(children[0]);
  auto hidden = std::dynamic_pointer_cast<torch::nn::LinearImpl>(children[3]);
  if (!conv || !hidden) return {};
  return {torch::nn::Conv2d(conv), torch::nn::Linear(hidden)};
}

ConvTorsoLayers checked_layers(const ActorCriticImpl& net) {
  if (!ConvActorCritic::applies(net)) {
    throw std::invalid_argument(
        "the engine's conv actor-critic needs a shared minatar_cnn torso, Discrete actions, no "
        "recurrent core and a loaded BLAS");
  }
  return minatar_layers(net.actor_torso());
}

}  // namespace

bool ConvActorCritic::applies(const ActorCriticImpl& net) {
  return !net.recurrent() && !net.critic_torso() && !net.log_std().defined() &&
         ConvTorso::supports(minatar_layers(net.actor_torso()));
}

ConvActorCritic::ConvActorCritic(ActorCriticImpl& net, int64_t actions,
                                 const std::vector<int64_t>& observation_shape)
    : torso_layers_(checked_layers(net)),
      actor_head_(net.actor_head()),
      critic_head_(net.critic_head()),
      actions_(actions),
      torso_(torso_layers_, observation_shape, /*observation_scale=*/1.f),
      categorical_(actions) {
  if (actor_head_->weight.size(0) != actions ||
      actor_head_->weight.size(1) != torso_.hidden_units() ||
      critic_head_->weight.size(1) != torso_.hidden_units()) {
    throw std::invalid_argument("the conv actor-critic's heads do not fit the torso and actions");
  }
  final_before_conv_ = {torso_layers_.hidden->weight, torso_layers_.hidden->bias,
                        actor_head_->weight,          actor_head_->bias,
                        critic_head_->weight,         critic_head_->bias};
}

void ConvActorCritic::reserve(int batch) {
  if (batch <= capacity_) return;
  capacity_ = batch;
  const size_t rows = static_cast<size_t>(batch);
  logits_.resize(rows * actions_);
  log_probs_.resize(rows);
  entropies_.resize(rows);
  values_.resize(rows);
}

const float* ConvActorCritic::forward(const float* observations, int batch, const uint8_t* legal,
                                      bool with_policy, bool with_values) {
  reserve(batch);
  const float* features_t = torso_.forward(torso_layers_, observations, batch);
  const int64_t hidden = torso_.hidden_units();
  if (with_policy) {
    linear_head_forward(features_t, hidden, batch, actor_head_->weight.data_ptr<float>(),
                        actor_head_->bias.data_ptr<float>(), actions_, logits_.data());
    categorical_.forward(logits_.data(), legal, batch);
  }
  if (with_values) {
    linear_head_forward(features_t, hidden, batch, critic_head_->weight.data_ptr<float>(),
                        critic_head_->bias.data_ptr<float>(), 1, values_.data());
  }
  return values_.data();
}

void ConvActorCritic::act(const float* observations, int batch, const uint8_t* legal,
                          const float* uniforms, int64_t* actions, float* log_probs,
                          float* values) {
  forward(observations, batch, legal, /*with_policy=*/true, /*with_values=*/values != nullptr);
  categorical_.sample(uniforms, batch, actions, log_probs);
  if (values) std::copy_n(values_.data(), batch, values);
}

const float* ConvActorCritic::values(const float* observations, int batch) {
  return forward(observations, batch, nullptr, /*with_policy=*/false, /*with_values=*/true);
}

ConvActorCritic::Terms ConvActorCritic::evaluate(const float* observations, const int64_t* actions,
                                                 const uint8_t* legal, int batch) {
  forward(observations, batch, legal, /*with_policy=*/true, /*with_values=*/true);
  categorical_.evaluate(actions, batch, log_probs_.data(), entropies_.data());
  evaluated_actions_ = actions;
  return {log_probs_.data(), entropies_.data(), values_.data()};
}

void ConvActorCritic::backward(const float* log_prob_gradient, const float* entropy_gradient,
                               const float* value_gradient, int batch) {
  if (!evaluated_actions_) throw std::logic_error("ConvActorCritic::backward before evaluate()");
  const int64_t hidden = torso_.hidden_units();
  const float* features_t = torso_.hidden_output();
  float* logit_gradient = logits_.data();
  categorical_.backward(evaluated_actions_, log_prob_gradient, entropy_gradient, batch,
                        logit_gradient);
  linear_head_backward(features_t, hidden, batch, actor_head_->weight.data_ptr<float>(), actions_,
                       logit_gradient, defined_gradient(actor_head_->weight),
                       defined_gradient(actor_head_->bias), torso_.hidden_gradient(),
                       /*accumulate=*/false);
  linear_head_backward(features_t, hidden, batch, critic_head_->weight.data_ptr<float>(), 1,
                       value_gradient, defined_gradient(critic_head_->weight),
                       defined_gradient(critic_head_->bias), torso_.hidden_gradient(),
                       /*accumulate=*/true);
  if (gradients_ready_) {
    torso_.backward(torso_layers_, batch, [&] { gradients_ready_(final_before_conv_); });
  } else {
    torso_.backward(torso_layers_, batch);
  }
  evaluated_actions_ = nullptr;
}

}  // namespace rl::nn
