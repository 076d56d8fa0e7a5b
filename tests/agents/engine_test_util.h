// What the actor-critic engine tests share (ppo_engine_test.cpp, a2c_engine_test.cpp): a
// tolerance check of engine outputs against LibTorch tensors, the reference policy terms through
// autograd, and a training run whose agent state is kept byte for byte (for determinism checks).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "agents/common/actor_critic.h"
#include "agents/common/distributions.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl::test {

// max |actual - expected| <= tolerance * (1 + max |expected|), over all elements.
inline void check_near(const float* actual, const torch::Tensor& expected_tensor,
                       const std::string& what, float tolerance = 3e-5f) {
  CAPTURE(what);
  const torch::Tensor expected = expected_tensor.detach().contiguous().reshape({-1});
  const float* e = expected.data_ptr<float>();
  float scale = 1.f, worst = 0.f;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    scale = std::max(scale, std::abs(e[i]));
    worst = std::max(worst, std::abs(actual[i] - e[i]));
  }
  CAPTURE(worst);
  CHECK(worst <= tolerance * scale);
}

// The LibTorch reference's log-probabilities of `actions`, entropies and values for `obs`, with
// autograd (every parameter gradient cleared first). `legal` (bool) may be undefined.
struct PolicyTerms {
  torch::Tensor log_prob, entropy, value;
};
inline PolicyTerms torch_policy_terms(ActorCritic& net, bool discrete, const torch::Tensor& obs,
                                      const torch::Tensor& actions, const torch::Tensor& legal) {
  for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
  const PolicyOutput out = net->forward(obs);
  if (discrete) {
    const Categorical dist(out.actor, legal);
    return {dist.log_prob(actions), dist.entropy(), out.value};
  }
  const DiagGaussian dist(out.actor, net->log_std());
  return {dist.log_prob(actions), dist.entropy(), out.value};
}

struct Trained {
  std::string checkpoint;  // The agent's saved state, byte for byte.
  double final_return = 0;
};

// Trains `e` in a temporary run folder named after `name` and saves its agent.
inline Trained train_and_save(Experiment& e, const std::string& name) {
  TempDir dir(name);
  TrainOptions options;
  options.run_dir = dir.str();
  Trained trained;
  trained.final_return = train(e, options).final_eval_mean;
  torch::serialize::OutputArchive archive;
  e.agent->save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  trained.checkpoint = bytes.str();
  return trained;
}

}  // namespace rl::test
