// Feature extractors shared by the actor-critic agents: an MLP on flattened observations, the
// MinAtar CNN (one 3x3 stride-1 conv, Young & Tian 2019) for small [C, H, W] grids, and the
// Nature CNN (Mnih et al. 2015: 8x8/4, 4x4/2, 3x3/1 convs) for larger images.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agents/common/agent_settings.h"

namespace rl {

struct Torso {
  torch::nn::Sequential net{nullptr};  // [B, shape...] float -> [B, features].
  int64_t features = 0;
  std::string signature;  // e.g. "mlp 4-64-64 tanh", stored in checkpoints.
  std::string kind;       // The resolved kind (never "auto").
};

// Builds a torso for observations of `shape` (without the batch dimension); weights get
// orthogonal initialisation with gain sqrt(2) and zero biases (the PPO implementation details
// of Huang et al. 2022). Throws std::invalid_argument for a shape the kind cannot take.
Torso make_torso(const TorsoOptions& options, const std::vector<int64_t>& shape);

// The number of elements of a tensor of `shape` (1 for an empty shape).
int64_t shape_product(const std::vector<int64_t>& shape);

// Orthogonal weights with `gain` and zero bias for every Linear and Conv2d inside `module`.
void orthogonal_init(torch::nn::Module& module, double gain);

}  // namespace rl
