#include "agents/common/torso.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cmath>
#include <stdexcept>

namespace rl {

int64_t shape_product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t d : shape) {
    if (!text.empty()) text += 'x';
    text += std::to_string(d);
  }
  return text;
}

void add_activation(torch::nn::Sequential& net, const std::string& activation) {
  if (activation == "relu") {
    net->push_back(torch::nn::ReLU());
  } else {
    net->push_back(torch::nn::Tanh());
  }
}

Torso mlp(const TorsoOptions& options, const std::vector<int64_t>& shape) {
  if (options.activation != "tanh" && options.activation != "relu") {
    throw std::invalid_argument("unknown activation '" + options.activation + "' (tanh, relu)");
  }
  Torso t{torch::nn::Sequential(), shape_product(shape), "", "mlp"};
  t.net->push_back(torch::nn::Flatten());
  t.signature = "mlp " + std::to_string(t.features);
  for (int64_t units : options.hidden) {
    t.net->push_back(torch::nn::Linear(t.features, units));
    add_activation(t.net, options.activation);
    t.features = units;
    t.signature += "-" + std::to_string(units);
  }
  t.signature += " " + options.activation;
  return t;
}

Torso minatar_cnn(const TorsoOptions& options, const std::vector<int64_t>& shape) {
  if (shape.size() != 3 || shape[1] < 3 || shape[2] < 3) {
    throw std::invalid_argument(
        "the minatar_cnn torso needs [C, H, W] observations of at least "
        "3x3, got [" +
        shape_text(shape) + "]");
  }
  Torso t{torch::nn::Sequential(), options.cnn_hidden, "", "minatar_cnn"};
  t.net->push_back(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], options.cnn_channels, 3).stride(1)));
  t.net->push_back(torch::nn::ReLU());
  t.net->push_back(torch::nn::Flatten());
  t.net->push_back(torch::nn::Linear(options.cnn_channels * (shape[1] - 2) * (shape[2] - 2),
                                     options.cnn_hidden));
  t.net->push_back(torch::nn::ReLU());
  t.signature = "minatar_cnn " + shape_text(shape) + " conv" +
                std::to_string(options.cnn_channels) + " fc" + std::to_string(options.cnn_hidden);
  return t;
}

// Output size of a valid (unpadded) convolution.
int64_t conv_out(int64_t size, int64_t kernel, int64_t stride) {
  return (size - kernel) / stride + 1;
}

Torso nature_cnn(const TorsoOptions& options, const std::vector<int64_t>& shape) {
  if (shape.size() != 3 || shape[1] < 36 || shape[2] < 36) {
    throw std::invalid_argument(
        "the nature_cnn torso needs [C, H, W] observations of at least "
        "36x36, got [" +
        shape_text(shape) + "]");
  }
  Torso t{torch::nn::Sequential(), options.cnn_hidden, "", "nature_cnn"};
  int64_t h = shape[1], w = shape[2];
  const int64_t layers[3][3] = {{32, 8, 4}, {64, 4, 2}, {64, 3, 1}};  // channels, kernel, stride
  int64_t channels = shape[0];
  for (const auto& layer : layers) {
    t.net->push_back(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, layer[0], layer[1]).stride(layer[2])));
    t.net->push_back(torch::nn::ReLU());
    channels = layer[0];
    h = conv_out(h, layer[1], layer[2]);
    w = conv_out(w, layer[1], layer[2]);
  }
  t.net->push_back(torch::nn::Flatten());
  t.net->push_back(torch::nn::Linear(channels * h * w, options.cnn_hidden));
  t.net->push_back(torch::nn::ReLU());
  t.signature = "nature_cnn " + shape_text(shape) + " fc" + std::to_string(options.cnn_hidden);
  return t;
}

}  // namespace

Torso make_torso(const TorsoOptions& options, const std::vector<int64_t>& shape) {
  std::string kind = options.kind;
  if (kind == "auto") {
    if (shape.size() == 3) {
      kind = shape[1] <= 16 && shape[2] <= 16 ? "minatar_cnn" : "nature_cnn";
    } else {
      kind = "mlp";
    }
  }
  Torso torso;
  if (kind == "mlp") {
    torso = mlp(options, shape);
  } else if (kind == "minatar_cnn") {
    torso = minatar_cnn(options, shape);
  } else if (kind == "nature_cnn") {
    torso = nature_cnn(options, shape);
  } else {
    throw std::invalid_argument("unknown torso '" + options.kind +
                                "' (auto, mlp, minatar_cnn, nature_cnn)");
  }
  orthogonal_init(*torso.net, std::sqrt(2.0));
  return torso;
}

void orthogonal_init(torch::nn::Module& module, double gain) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/true)) {
    torch::Tensor weight, bias;
    if (auto* linear = child->as<torch::nn::Linear>()) {
      weight = linear->weight;
      bias = linear->bias;
    } else if (auto* conv = child->as<torch::nn::Conv2d>()) {
      weight = conv->weight;
      bias = conv->bias;
    } else {
      continue;
    }
    torch::nn::init::orthogonal_(weight, gain);
    if (bias.defined()) bias.zero_();
  }
}

}  // namespace rl
