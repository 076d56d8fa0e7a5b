#include "agents/export/script_layers.h"

#include <c10/util/variant.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <stdexcept>

namespace rl::exporting {

namespace {

void add_weights(torch::jit::Module& module, const std::string& name, const torch::Tensor& weight,
                 const torch::Tensor& bias) {
  module.register_parameter(name + "_weight", weight.detach().clone(), /*is_buffer=*/false);
  if (bias.defined()) {
    module.register_parameter(name + "_bias", bias.detach().clone(), /*is_buffer=*/false);
  }
}

std::string bias_argument(const std::string& name, const torch::Tensor& bias) {
  return bias.defined() ? "self." + name + "_bias" : "None";
}

// The statement applying a Conv2d; only the shapes the torsos build (no padding, dilation 1,
// one group) are accepted, so the exported module computes exactly what the agent does.
std::string conv_statement(torch::jit::Module& module, const std::string& name,
                           const torch::nn::Conv2dImpl& conv) {
  const auto& options = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&options.padding());
  const bool plain = padding && (*padding)->at(0) == 0 && (*padding)->at(1) == 0 &&
                     options.dilation()->at(0) == 1 && options.dilation()->at(1) == 1 &&
                     options.groups() == 1;
  if (!plain) {
    throw std::invalid_argument("export: layer " + name +
                                " is a padded, dilated or grouped convolution, which the exporter "
                                "does not support");
  }
  add_weights(module, name, conv.weight, conv.bias);
  const auto& stride = options.stride();
  return "    x = torch.conv2d(x, self." + name + "_weight, " + bias_argument(name, conv.bias) +
         ", [" + std::to_string(stride->at(0)) + ", " + std::to_string(stride->at(1)) +
         "], [0, 0])\n";
}

}  // namespace

void add_constant(torch::jit::Module& module, const std::string& name, const torch::Tensor& value) {
  module.register_buffer(name, value.detach().clone());
}

std::string linear_expression(torch::jit::Module& module, const std::string& name,
                              const torch::nn::Linear& linear, const std::string& input) {
  add_weights(module, name, linear->weight, linear->bias);
  return "torch.linear(" + input + ", self." + name + "_weight, " +
         bias_argument(name, linear->bias) + ")";
}

std::string sequential_statements(torch::jit::Module& module, const std::string& prefix,
                                  const torch::nn::Sequential& net) {
  std::string body;
  size_t index = 0;
  for (const auto& layer : net->children()) {
    const std::string name = prefix + "_" + std::to_string(index++);
    if (auto* linear = layer->as<torch::nn::Linear>()) {
      add_weights(module, name, linear->weight, linear->bias);
      body += "    x = torch.linear(x, self." + name + "_weight, " +
              bias_argument(name, linear->bias) + ")\n";
    } else if (auto* conv = layer->as<torch::nn::Conv2d>()) {
      body += conv_statement(module, name, *conv);
    } else if (layer->as<torch::nn::ReLU>()) {
      body += "    x = torch.relu(x)\n";
    } else if (layer->as<torch::nn::Tanh>()) {
      body += "    x = torch.tanh(x)\n";
    } else if (auto* flatten = layer->as<torch::nn::Flatten>()) {
      body += "    x = torch.flatten(x, " + std::to_string(flatten->options.start_dim()) + ", " +
              std::to_string(flatten->options.end_dim()) + ")\n";
    } else {
      throw std::invalid_argument("export: layer " + name + " (" + layer->name() +
                                  ") has no TorchScript translation");
    }
  }
  return body;
}

}  // namespace rl::exporting
