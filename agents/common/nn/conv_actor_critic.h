// The actor-critic network of A2C and PPO with a shared MinAtar CNN torso (torso: minatar_cnn,
// shared_torso: true, Discrete actions) on the engine: the conv torso of conv_torso.h (the one
// DQN's Q-network uses) with a categorical policy head (logits) and a value head on its
// features. Acting, value estimates, the policy terms of a minibatch and the backward pass from
// a loss's gradients with respect to those terms, in place on the module's parameters
// (gradients overwrite their .grad() tensors, which must be defined and contiguous, as a
// FlatOptimizer leaves them). ActorCriticEngine hands such networks to this class.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "agents/common/actor_critic.h"
#include "agents/common/nn/conv_torso.h"
#include "agents/common/nn/policy_heads.h"

namespace rl::nn {

class ConvActorCritic {
 public:
  // Whether `net` is feed-forward with Discrete actions and one shared torso that is the
  // MinAtar CNN (Conv2d, ReLU, Flatten, Linear, ReLU) ConvTorso computes.
  static bool applies(const ActorCriticImpl& net);

  // For float observations of `observation_shape` ([channels, height, width], already scaled).
  // Throws std::invalid_argument when !applies(net) or the shapes do not fit.
  ConvActorCritic(ActorCriticImpl& net, int64_t actions,
                  const std::vector<int64_t>& observation_shape);

  // Acting on `batch` observations: actions sampled with `uniforms` [batch] (null: the most
  // likely), `legal` u8 masks [batch, actions] or null; `log_probs` and `values` [batch] may be
  // null (then not computed).
  void act(const float* observations, int batch, const uint8_t* legal, const float* uniforms,
           int64_t* actions, float* log_probs, float* values);
  // V(observations) [batch], valid until the next call.
  const float* values(const float* observations, int batch);

  // Log-probabilities of `actions`, entropies and values [batch] each; valid, with every input
  // unchanged, until backward() or the next call.
  struct Terms {
    const float* log_probs;
    const float* entropies;
    const float* values;
  };
  Terms evaluate(const float* observations, const int64_t* actions, const uint8_t* legal,
                 int batch);
  // Every parameter gradient (overwritten) of a loss from its gradients with respect to the
  // last evaluate()'s log-probabilities, entropies and values [batch].
  void backward(const float* log_prob_gradient, const float* entropy_gradient,
                const float* value_gradient, int batch);

  // Called by every backward() once the gradients of `parameters` (the hidden layer's and the
  // heads') are final, before the conv layer's are computed. Null (the default): no call.
  using GradientsReady = std::function<void(const std::vector<torch::Tensor>& parameters)>;
  void set_gradients_ready(GradientsReady hook) { gradients_ready_ = std::move(hook); }

 private:
  void reserve(int batch);
  // The torso, then logits_ (the categorical normalized) and, when `with_values`, values_.
  const float* forward(const float* observations, int batch, const uint8_t* legal, bool with_policy,
                       bool with_values);

  ConvTorsoLayers torso_layers_;
  torch::nn::Linear actor_head_, critic_head_;
  int64_t actions_;
  ConvTorso torso_;
  CategoricalHead categorical_;
  int capacity_ = 0;
  std::vector<float> logits_;                          // [batch, actions], then d loss / d logits.
  std::vector<float> log_probs_, entropies_, values_;  // [batch] each.
  const int64_t* evaluated_actions_ = nullptr;         // The last evaluate()'s actions.
  GradientsReady gradients_ready_;
  std::vector<torch::Tensor> final_before_conv_;  // What gradients_ready_ is called with.
};

}  // namespace rl::nn
