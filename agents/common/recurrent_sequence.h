// LibTorch autograd around nn::RecurrentLayer (agents/common/nn/recurrent_layer.h): one graph
// node for a whole layer over a whole sequence, so that the recurrent core's re-run costs a few
// BLAS calls per step instead of a dozen LibTorch ops forward and again backward.
#pragma once

#include <torch/types.h>

#include <vector>

#include "agents/common/nn/recurrent_layer.h"

namespace rl {

// One layer of `cell` over `input` [T, B, in] from h0 [B, H] (and c0 [B, H] for an LSTM; the
// GRU ignores it), with `starts` float [T, B] (1: the state is zeroed before that step).
// `parameters` are torch's weight_ih, weight_hh, bias_ih, bias_hh of the layer. Returns the
// outputs [T, B, H]; gradients reach `input` and `parameters` (not h0, c0: stored data).
torch::Tensor recurrent_layer_sequence(nn::RecurrentLayer::Cell cell, const torch::Tensor& input,
                                       const torch::Tensor& h0, const torch::Tensor& c0,
                                       const torch::Tensor& starts,
                                       const std::vector<torch::Tensor>& parameters);

}  // namespace rl
