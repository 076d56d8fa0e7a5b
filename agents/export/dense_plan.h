// The fast path of exported policies: plain MLP policies are evaluated by rl::Policy on the
// small-network engine (agents/common/nn/dense_stack.h, direct BLAS on preallocated buffers)
// instead of a LibTorch forward of the TorchScript module, which costs tens of microseconds per
// call for a network that computes in one or two.
//
// The exporter describes such a policy's action path in module attributes (a "dense plan"); the
// TorchScript methods stay the reference, and the fallback for every other network (CNN
// torsos, dueling heads, recurrent cores) and for files written before plans existed:
//   dense_layers: List[str]  names of the Linear layers in order (weights <name>_weight/_bias)
//   dense_activation: str    "relu" | "tanh", after every layer but the last
//   dense_rule: str          what turns the last layer's output into actions:
//                            "argmax" (Q-values; masked to -inf), "categorical" (the argmax of
//                            log_softmax, masked logits -1e8), "clip" (Gaussian mean clipped to
//                            the action bounds), "squash" (center + half_range * tanh(mean))
//   observation_clip: float  the normalization clip (observation_normalized policies)
// An empty dense_rule means "no plan".
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agents/common/nn/dense_stack.h"
#include "core/spaces.h"

namespace rl::exporting {

// The Linear layers of an action path and the activation between them.
struct DensePath {
  std::vector<std::string> layer_names;  // As registered by script_layers.h.
  std::string activation;                // "relu" | "tanh"
  std::string rule;                      // See above; empty: no plan.
};

// The layer names script_layers.h gives the Linear layers of `torso` (registered under
// `prefix`), then `head_name`; an empty rule when `torso` is not a plain MLP whose every
// Linear is followed by its one activation (then the path cannot be one dense stack).
DensePath mlp_path(const torch::nn::Sequential& torso, const std::string& prefix,
                   const std::string& head_name, const std::string& rule);

// Writes `path` (and the normalization clip) as the attributes above; an empty path writes
// dense_rule "".
void add_dense_plan(torch::jit::Module& module, const DensePath& path, double observation_clip);

// Evaluates a policy's dense plan on raw observations, as its TorchScript forward does
// (preprocess, network, action rule). Not thread-safe (buffers are reused).
class DensePolicy {
 public:
  // Null when `script` has no plan. Throws std::runtime_error for a plan naming missing
  // weights or layers of mismatched widths.
  static std::unique_ptr<DensePolicy> from_module(const torch::jit::Module& script,
                                                  const Space& observations, const Space& actions);

  // `batch` observations (raw bytes of the observation space) -> `discrete` [batch] or
  // `continuous` [batch * action elements]; `legal` [batch * n] or null. Sizes are the caller's
  // to check (rl::Policy does).
  void act(const uint8_t* observations, int batch, const uint8_t* legal, int64_t* discrete,
           float* continuous);

 private:
  DensePolicy() = default;
  const float* preprocess(const uint8_t* observations, int batch);
  void choose_discrete(const float* scores, int batch, const uint8_t* legal, int64_t* actions);

  Space observation_space_, action_space_;
  std::string rule_;
  bool normalized_ = false;
  std::vector<double> mean_, std_;  // Per observation element (normalized policies).
  double clip_ = 0.0;
  float scale_ = 1.f;
  nn::DenseStack stack_;
  std::vector<torch::nn::Linear> layers_;  // The weights stack_ reads.
  std::vector<float> input_, scores_;
  std::vector<float> center_, half_range_;  // "squash"
};

}  // namespace rl::exporting
