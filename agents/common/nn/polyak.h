// Polyak (soft) and hard target-network updates as one fused loop per parameter tensor, on
// the parameter tensors of two LibTorch modules of the same architecture.
#pragma once

#include <torch/nn/module.h>

#include <vector>

namespace rl::nn {

class PolyakAverager {
 public:
  // Throws std::invalid_argument when the two modules' parameters do not pair up by shape.
  PolyakAverager(torch::nn::Module& source, torch::nn::Module& target);
  // target = (1 - tau) * target + tau * source (tau >= 1: a copy).
  void update(double tau);

 private:
  std::vector<torch::Tensor> source_, target_;
};

}  // namespace rl::nn
