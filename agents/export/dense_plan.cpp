#include "agents/export/dense_plan.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace rl::exporting {

namespace {

// The activation layer `layer` is, or "" for any other layer.
std::string activation_name(const torch::nn::Module& layer) {
  if (layer.as<torch::nn::ReLU>()) return "relu";
  if (layer.as<torch::nn::Tanh>()) return "tanh";
  return "";
}

std::vector<float> plan_floats(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kFloat32).contiguous();
  return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
}

std::vector<double> plan_doubles(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kFloat64).contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

// A Linear module holding a copy of the script's <name>_weight and <name>_bias.
torch::nn::Linear linear_of(const torch::jit::Module& script, const std::string& name) {
  if (!script.hasattr(name + "_weight") || !script.hasattr(name + "_bias")) {
    throw std::runtime_error("dense plan: the policy has no weights for layer " + name);
  }
  const torch::Tensor weight = script.attr(name + "_weight").toTensor();
  const torch::Tensor bias = script.attr(name + "_bias").toTensor();
  if (weight.dim() != 2 || bias.dim() != 1 || bias.size(0) != weight.size(0)) {
    throw std::runtime_error("dense plan: layer " + name + " is not a Linear layer");
  }
  torch::nn::Linear linear(weight.size(1), weight.size(0));
  torch::NoGradGuard no_grad;
  linear->weight.copy_(weight);
  linear->bias.copy_(bias);
  return linear;
}

}  // namespace

DensePath mlp_path(const torch::nn::Sequential& torso, const std::string& prefix,
                   const std::string& head_name, const std::string& rule) {
  DensePath path;
  bool activation_due = false;  // A Linear waits for its activation.
  size_t index = 0;
  for (const auto& layer : torso->children()) {
    const std::string name = prefix + "_" + std::to_string(index++);
    const std::string activation = activation_name(*layer);
    if (layer->as<torch::nn::Linear>() && !activation_due) {
      path.layer_names.push_back(name);
      activation_due = true;
    } else if (!activation.empty() && activation_due &&
               (path.activation.empty() || path.activation == activation)) {
      path.activation = activation;
      activation_due = false;
    } else if (!layer->as<torch::nn::Flatten>() || !path.layer_names.empty()) {
      return {};  // Not Linear/activation pairs after an optional leading Flatten.
    }
  }
  if (activation_due || path.layer_names.empty()) return {};
  path.layer_names.push_back(head_name);
  path.rule = rule;
  return path;
}

void add_dense_plan(torch::jit::Module& module, const DensePath& path, double observation_clip) {
  module.register_attribute("dense_layers", c10::ListType::ofStrings(),
                            c10::List<std::string>(path.layer_names));
  module.register_attribute("dense_activation", c10::StringType::get(), path.activation);
  module.register_attribute("dense_rule", c10::StringType::get(), path.rule);
  module.register_attribute("observation_clip", c10::FloatType::get(), observation_clip);
}

std::unique_ptr<DensePolicy> DensePolicy::from_module(const torch::jit::Module& script,
                                                      const Space& observations,
                                                      const Space& actions) {
  if (!script.hasattr("dense_rule") || script.attr("dense_rule").toStringRef().empty()) {
    return nullptr;
  }
  std::unique_ptr<DensePolicy> policy(new DensePolicy());
  policy->observation_space_ = observations;
  policy->action_space_ = actions;
  policy->rule_ = script.attr("dense_rule").toStringRef();
  const bool discrete_rule = policy->rule_ == "argmax" || policy->rule_ == "categorical";
  if (!discrete_rule && policy->rule_ != "clip" && policy->rule_ != "squash") {
    throw std::runtime_error("dense plan: unknown action rule '" + policy->rule_ + "'");
  }
  if (discrete_rule != actions.is_discrete()) {
    throw std::runtime_error("dense plan: rule '" + policy->rule_ + "' does not fit the " +
                             actions.describe() + " actions");
  }
  for (const auto& name : script.attr("dense_layers").toList()) {
    policy->layers_.push_back(linear_of(script, name.get().toStringRef()));
  }
  const std::string& activation = script.attr("dense_activation").toStringRef();
  policy->stack_ = nn::DenseStack(
      policy->layers_, activation == "relu" ? nn::Activation::kRelu : nn::Activation::kTanh);
  const int64_t outputs = actions.is_discrete() ? actions.n : actions.numel();
  if (policy->stack_.input_size() != observations.numel() ||
      policy->stack_.output_size() != outputs) {
    throw std::runtime_error(
        "dense plan: the layers map " + std::to_string(policy->stack_.input_size()) +
        " inputs to " + std::to_string(policy->stack_.output_size()) + " outputs, the spaces " +
        std::to_string(observations.numel()) + " to " + std::to_string(outputs));
  }
  policy->normalized_ = script.attr("observation_normalized").toBool();
  if (policy->normalized_) {
    policy->mean_ = plan_doubles(script.attr("observation_mean").toTensor());
    policy->std_ = plan_doubles(script.attr("observation_std").toTensor());
    policy->clip_ = script.attr("observation_clip").toDouble();
  }
  policy->scale_ = static_cast<float>(script.attr("observation_scale").toDouble());
  if (policy->rule_ == "squash") {
    policy->center_ = plan_floats(script.attr("action_center").toTensor());
    policy->half_range_ = plan_floats(script.attr("action_half_range").toTensor());
  }
  return policy;
}

// As the module's preprocess(): normalize in double and clamp, then scale in float.
const float* DensePolicy::preprocess(const uint8_t* observations, int batch) {
  const size_t numel = static_cast<size_t>(observation_space_.numel());
  const size_t count = numel * static_cast<size_t>(batch);
  const bool u8 = observation_space_.dtype == DType::kU8;
  const bool aligned = reinterpret_cast<uintptr_t>(observations) % alignof(float) == 0;
  if (!u8 && !normalized_ && scale_ == 1.f && aligned) {
    return reinterpret_cast<const float*>(observations);  // f32 rows as they are.
  }
  input_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    float raw;
    if (u8) {
      raw = observations[i];
    } else {
      std::memcpy(&raw, observations + i * sizeof(float), sizeof(float));
    }
    float x = raw;
    if (normalized_) {
      const double z = (static_cast<double>(raw) - mean_[i % numel]) / std_[i % numel];
      x = static_cast<float>(std::clamp(z, -clip_, clip_));
    }
    input_[i] = scale_ == 1.f ? x : x * scale_;
  }
  return input_.data();
}

// The first highest score per row, illegal actions scoring -inf (argmax) or -1e8
// (categorical, whose scores are log_softmax of the masked logits).
void DensePolicy::choose_discrete(const float* scores, int batch, const uint8_t* legal,
                                  int64_t* actions) {
  const int64_t n = action_space_.n;
  const bool categorical = rule_ == "categorical";
  const float illegal = categorical ? -1e8f : -std::numeric_limits<float>::infinity();
  scores_.resize(static_cast<size_t>(n));
  for (int row = 0; row < batch; ++row) {
    for (int64_t a = 0; a < n; ++a) {
      const bool allowed = legal == nullptr || legal[row * n + a] != 0;
      scores_[a] = allowed ? scores[row * n + a] : illegal;
    }
    if (categorical) {  // log_softmax as LibTorch computes it: (x - max) - log(sum exp(x - max)).
      const float max = *std::max_element(scores_.begin(), scores_.end());
      float sum = 0.f;
      for (float s : scores_) sum += std::exp(s - max);
      const float log_sum = std::log(sum);
      for (float& s : scores_) s = (s - max) - log_sum;
    }
    actions[row] = std::max_element(scores_.begin(), scores_.end()) - scores_.begin();
  }
}

void DensePolicy::act(const uint8_t* observations, int batch, const uint8_t* legal,
                      int64_t* discrete, float* continuous) {
  const float* out = stack_.forward(preprocess(observations, batch), batch);
  if (action_space_.is_discrete()) return choose_discrete(out, batch, legal, discrete);
  const size_t dim = static_cast<size_t>(action_space_.numel());
  for (size_t i = 0; i < dim * static_cast<size_t>(batch); ++i) {
    const size_t d = i % dim;
    continuous[i] = rule_ == "clip"
                        ? std::min(std::max(out[i], action_space_.low[d]), action_space_.high[d])
                        : center_[d] + half_range_[d] * std::tanh(out[i]);
  }
}

}  // namespace rl::exporting
