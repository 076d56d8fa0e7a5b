// Turns LibTorch layers into TorchScript source for exported policies: the layer's weights are
// copied into a torch::jit::Module as parameters and a statement applying the layer is returned
// as text, to be placed inside a method given to Module::define().
#pragma once

#include <torch/csrc/jit/api/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <string>

namespace rl::exporting {

// Registers `net`'s weights in `module` as <prefix>_<index>_weight/_bias and returns the
// statements (one per line, indented by four spaces) that apply the layers in order to the
// TorchScript variable `x`, reassigning it. Supports Linear, Conv2d (unpadded, undilated),
// ReLU, Tanh and Flatten; throws std::invalid_argument naming any other layer.
std::string sequential_statements(torch::jit::Module& module, const std::string& prefix,
                                  const torch::nn::Sequential& net);

// Registers `linear`'s weights as <name>_weight/_bias and returns the expression applying it to
// the TorchScript expression `input`.
std::string linear_expression(torch::jit::Module& module, const std::string& name,
                              const torch::nn::Linear& linear, const std::string& input);

// Registers a copy of `value` as the buffer (constant tensor attribute) `name`.
void add_constant(torch::jit::Module& module, const std::string& name, const torch::Tensor& value);

}  // namespace rl::exporting
