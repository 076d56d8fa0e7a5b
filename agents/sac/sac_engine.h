// SAC's Box-action networks computed by the small-network engine (agents/common/nn) instead of
// LibTorch: acting, the critic step's soft targets and critic gradients, and the actor step's
// gradients, on preallocated buffers, in place on the modules' parameters. The parameter
// gradients land in the parameters' .grad() tensors, where SAC's FlatOptimizers read them.
// Applies to Box actions with MLP torsos (see SacEngine::applies).
#pragma once

#include <memory>
#include <vector>

#include "agents/common/nn/dense_stack.h"
#include "agents/common/nn/tanh_gaussian.h"
#include "agents/common/nn/twin_q.h"
#include "agents/sac/sac_networks.h"
#include "core/thread_pool.h"

namespace rl {

class SacEngine {
 public:
  struct Networks {
    SacActorImpl& actor;
    SacCriticImpl& q1;
    SacCriticImpl& q2;
    SacCriticImpl& q1_target;
    SacCriticImpl& q2_target;
  };
  // Whether the engine computes these networks: Box-action networks with MLP torsos, and a
  // BLAS loaded in the process.
  static bool applies(const Networks& networks);

  // Throws std::invalid_argument when !applies(networks).
  SacEngine(const Networks& networks, int observation_size, int action_size, double log_std_min,
            double log_std_max);

  // 1 or 2 threads: with 2, each twin-critic pass (targets and critics) runs one critic per
  // thread, with bit-identical results. Throws std::invalid_argument for other counts.
  void set_threads(int threads);

  // Actions in [-1, 1] [batch, action_size]: sampled with standard normal `noise`
  // [batch, action_size], or the mode (tanh of the mean) when `noise` is null.
  void act(const float* observations, int batch, const float* noise, float* actions);

  // One critic step's gradients for both critics (written into their .grad()), from
  // transitions (observations [batch, observation_size], actions in [-1, 1], rewards and
  // discounts [batch]) and the noise for the next actions. Returns the critic loss; `q1_mean`
  // gets the mean Q1(s, a).
  double critic_gradients(const float* observations, const float* next_observations,
                          const float* actions, const float* rewards, const float* discounts,
                          const float* next_noise, float alpha, int batch, double* q1_mean);

  // One actor step's gradients (written into the actor's .grad()) with actions sampled with
  // `noise`. Returns the actor loss; the returned log-probabilities [batch] of the sampled
  // actions stay valid until the next call.
  double actor_gradients(const float* observations, const float* noise, float alpha, int batch,
                         const float** log_probs);

 private:
  // Samples actions and log-probs for `observations` into actions_ and log_probs_.
  void sample_policy(const float* observations, const float* noise, int batch);
  void reserve(int batch);

  int observation_size_, action_size_;
  nn::DenseStack torso_, mean_head_, log_std_head_;
  nn::TanhGaussianHead squash_;
  nn::TwinQ critics_, targets_;
  std::unique_ptr<ThreadPool> pool_;  // Null on one thread.
  std::vector<float> actions_, log_probs_, targets_values_;
  std::vector<float> q1_gradient_, q2_gradient_, log_prob_gradient_;
  std::vector<float> mean_gradient_, raw_log_std_gradient_, feature_gradient_;
};

}  // namespace rl
