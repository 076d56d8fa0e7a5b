// A plain C++ forward pass of an MLP Q-network for acting on a few observations at a time.
// LibTorch spends ~10 us of dispatch on a batch-1 forward of a small MLP; this does the same
// arithmetic in ~1-2 us from a transposed copy of the weights, refreshed after learning.
#pragma once

#include <cstdint>
#include <vector>

#include "agents/dqn/q_network.h"

namespace rl {

class FastMlp {
 public:
  // Copies (transposed) the weights of `network`, which must have an MLP torso.
  void refresh(QNetworkImpl& network);
  // Q-values of `batch` flattened observations (input_size() floats each) into `q`
  // (batch * num_actions floats).
  void forward(const float* observations, int batch, float* q);
  int64_t input_size() const { return layers_.empty() ? 0 : layers_.front().in; }

 private:
  struct Layer {
    int64_t in = 0, out = 0;
    std::vector<float> weight_t;  // [in, out]: column o of row i is W[o, i].
    std::vector<float> bias;      // [out]
  };
  static Layer copy_layer(const torch::nn::Linear& linear);
  // y = x W^T + b for one row, optionally followed by ReLU.
  static void apply(const Layer& layer, const float* x, float* y, bool relu);

  std::vector<Layer> layers_;  // Torso layers (ReLU after each), then the head.
  Layer value_;                // Dueling value stream (out = 1), when dueling.
  bool dueling_ = false;
  std::vector<float> a_, b_;  // Scratch activations.
};

}  // namespace rl
