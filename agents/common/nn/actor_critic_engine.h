// The actor-critic network of A2C and PPO (agents/common/actor_critic.h) computed by the
// small-network engine instead of LibTorch: acting, value estimates, and the policy terms of a
// minibatch (log-probabilities, entropies, values) with the backward pass from a loss's
// gradients with respect to those terms. Works in place on the module's parameters; parameter
// gradients overwrite their .grad() tensors (where a FlatOptimizer reads them).
//
// Applies to separate (unshared) MLP torsos, Discrete (categorical logits) or Box (diagonal
// Gaussian with the module's state-independent log-std) actions, with a BLAS loaded; and to a
// shared MinAtar CNN torso with Discrete actions, which it hands to ConvActorCritic
// (conv_actor_critic.h, the conv torso DQN uses too; one thread).
//
// With set_threads(2) the actor and the critic run side by side on two threads (evaluate,
// backward, and acting on large batches). They share no parameter, gradient or buffer, so the
// results are the same bit for bit with one thread or two.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "agents/common/actor_critic.h"
#include "agents/common/nn/conv_actor_critic.h"
#include "agents/common/nn/dense_stack.h"
#include "agents/common/nn/policy_heads.h"
#include "core/thread_pool.h"

namespace rl::nn {

class ActorCriticEngine {
 public:
  // Whether the engine computes `net`: separate MLP torsos, or a shared MinAtar CNN torso with
  // Discrete actions, and a loaded BLAS.
  static bool applies(const ActorCriticImpl& net);

  // Throws std::invalid_argument when !applies(net) or `net` does not have `action_dim` outputs.
  // A CNN torso needs the `observation_shape` [channels, height, width] it was built for.
  ActorCriticEngine(ActorCriticImpl& net, bool discrete, int64_t action_dim,
                    const std::vector<int64_t>& observation_shape = {});

  // What the engine computes, for start-up descriptions: "BLAS MLPs" or "BLAS MinAtar CNN".
  const char* network_kind() const { return conv_ ? "BLAS MinAtar CNN" : "BLAS MLPs"; }

  // 1: everything on the calling thread (the default); 2: the critic beside the actor on a
  // second thread (MLP torsos only). Throws std::invalid_argument for other counts.
  void set_threads(int threads);
  int threads() const { return pool_ ? 2 : 1; }

  // Acting on `batch` float observations [batch, observation_size]. Discrete: actions sampled
  // with `uniforms` [batch] (null: the most likely), `legal` u8 masks [batch, actions] or null.
  // Box: actions = mean + std * `noise` [batch, action_dim] (null: the mean), unclipped.
  // `log_probs` and `values` [batch] may be null (then not computed).
  void act_discrete(const float* observations, int batch, const uint8_t* legal,
                    const float* uniforms, int64_t* actions, float* log_probs, float* values);
  void act_box(const float* observations, int batch, const float* noise, float* actions,
               float* log_probs, float* values);
  // V(observations) [batch], valid until the next call.
  const float* values(const float* observations, int batch);

  // The policy terms of stored actions (discrete_actions or box_actions, by the action kind;
  // `legal` as in act_discrete). The pointers stay valid, and every input must stay unchanged,
  // until backward() or the next call.
  struct Evaluation {
    const float* log_probs;  // [batch]
    const float* entropies;  // [batch]
    const float* values;     // [batch]
  };
  Evaluation evaluate(const float* observations, const int64_t* discrete_actions,
                      const float* box_actions, const uint8_t* legal, int batch);
  // Every parameter gradient (overwritten) of a loss from its gradients with respect to the
  // last evaluate()'s log-probabilities, entropies and values [batch].
  void backward(const float* log_prob_gradient, const float* entropy_gradient,
                const float* value_gradient, int batch);
  // The MinAtar CNN only (returns false, and never calls `hook`, for the MLPs): every backward()
  // calls `hook` with the parameters whose gradients are final before the conv layer's are
  // computed (ConvActorCritic::set_gradients_ready), so that their sum over the ranks can start.
  bool set_gradients_ready(ConvActorCritic::GradientsReady hook);

 private:
  void reserve(int batch);
  // Runs the two independent halves of a pass, side by side when set_threads(2), except for an
  // acting batch (`acting_batch` > 0) too small to pay for the hand-off.
  void actor_and_critic(const std::function<void()>& actor, const std::function<void()>& critic,
                        int acting_batch = 0);

  ActorCriticImpl& net_;
  bool discrete_;
  int64_t action_dim_;
  DenseStack actor_, critic_;  // Torso + head each.
  CategoricalHead categorical_;
  DiagGaussianHead gaussian_;
  int capacity_ = 0;
  std::vector<float> log_probs_, entropies_, values_, head_gradient_, value_gradient_;
  // The last evaluate()'s inputs, for backward().
  const int64_t* discrete_actions_ = nullptr;
  const float* box_actions_ = nullptr;
  const float* mean_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;       // Null with one thread.
  std::unique_ptr<ConvActorCritic> conv_;  // The shared CNN network, else null.
};

}  // namespace rl::nn
