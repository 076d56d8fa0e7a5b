#include "agents/policy.h"

#include <torch/script.h>

#include <filesystem>

#include "agents/common/action_masks.h"
#include "agents/export/policy_export.h"

namespace rl {

struct Policy::Module {
  torch::jit::Module script;
};

namespace {

std::vector<float> floats_of(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kFloat32).contiguous();
  return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
}

std::string text_attribute(const torch::jit::Module& script, const std::string& name) {
  return script.attr(name).toStringRef();
}

torch::jit::Module read_script(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw PolicyLoadError(path + ": no such policy file");
  }
  torch::jit::Module script;
  try {
    script = torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw PolicyLoadError(path + ": not a TorchScript policy file (" + e.what_without_backtrace() +
                          ")");
  }
  if (!script.hasattr("rlcade_format")) {
    throw PolicyLoadError(path +
                          ": a TorchScript module, but not an rlcade policy (no rlcade_format "
                          "attribute; write policies with rlexport)");
  }
  const std::string format = text_attribute(script, "rlcade_format");
  if (format != kPolicyFormat) {
    throw PolicyLoadError(path + ": policy format '" + format + "', this build reads '" +
                          kPolicyFormat + "'");
  }
  script.eval();
  return script;
}

}  // namespace

Policy::Policy(std::unique_ptr<Module> module) : module_(std::move(module)) {}
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;
Policy::~Policy() = default;

Policy Policy::load(const std::string& path) {
  Policy policy(std::make_unique<Module>(Module{read_script(path)}));
  const torch::jit::Module& script = policy.module_->script;
  try {
    policy.env_id_ = text_attribute(script, "env_id");
    policy.env_params_ = text_attribute(script, "env_params");
    policy.env_wrappers_ = text_attribute(script, "env_wrappers");
    policy.agent_type_ = text_attribute(script, "agent_type");
    const DType dtype =
        text_attribute(script, "observation_dtype") == "u8" ? DType::kU8 : DType::kF32;
    policy.observation_space_ =
        Space::box(script.attr("observation_shape").toIntVector(),
                   floats_of(script.attr("observation_low").toTensor()),
                   floats_of(script.attr("observation_high").toTensor()), dtype);
    if (text_attribute(script, "action_kind") == "discrete") {
      policy.action_space_ = Space::discrete(script.attr("num_actions").toInt());
    } else {
      policy.action_space_ =
          Space::box(script.attr("action_shape").toIntVector(),
                     floats_of(script.attr("action_low").toTensor()),
                     floats_of(script.attr("action_high").toTensor()), DType::kF32);
      policy.action_values_.resize(static_cast<size_t>(policy.action_space_.numel()));
    }
  } catch (const std::exception& e) {
    throw PolicyLoadError(path + ": an rlcade policy with damaged attributes (" + e.what() + ")");
  }
  return policy;
}

Action Policy::act(std::span<const uint8_t> observation, std::span<const uint8_t> legal) {
  int64_t index = 0;
  act(observation, 1, {&index, action_space_.is_discrete() ? 1u : 0u},
      action_space_.is_discrete() ? std::span<float>() : std::span<float>(action_values_), legal);
  return action_space_.is_discrete() ? Action::discrete(index) : Action::continuous(action_values_);
}

void Policy::act(std::span<const uint8_t> observations, int batch, std::span<int64_t> discrete,
                 std::span<float> continuous, std::span<const uint8_t> legal) {
  const bool is_discrete = action_space_.is_discrete();
  const size_t bytes = observation_space_.bytes();
  if (batch < 1 || observations.size() != bytes * static_cast<size_t>(batch)) {
    throw std::invalid_argument("Policy::act: expected " + std::to_string(batch) +
                                " observation(s) of " + std::to_string(bytes) + " bytes (" +
                                observation_space_.describe() + "), got " +
                                std::to_string(observations.size()) + " bytes");
  }
  const size_t slots = static_cast<size_t>(batch) * (is_discrete ? 1 : action_space_.numel());
  if ((is_discrete ? discrete.size() : continuous.size()) != slots) {
    throw std::invalid_argument("Policy::act: the action output needs " + std::to_string(slots) +
                                " entries");
  }
  if (!legal.empty()) {
    if (!is_discrete) throw std::invalid_argument("Policy::act: masks need Discrete actions");
    check_action_masks(legal, batch, action_space_.n, "Policy::act");
  }
  std::vector<int64_t> shape = {batch};
  shape.insert(shape.end(), observation_space_.shape.begin(), observation_space_.shape.end());
  const auto dtype = observation_space_.dtype == DType::kU8 ? torch::kUInt8 : torch::kFloat32;
  torch::InferenceMode inference;
  const torch::Tensor obs =
      torch::from_blob(const_cast<uint8_t*>(observations.data()), shape, dtype);
  std::vector<c10::IValue> inputs = {obs};
  if (!legal.empty()) {
    inputs.emplace_back(torch::from_blob(const_cast<uint8_t*>(legal.data()),
                                         {batch, action_space_.n}, torch::kUInt8));
  }
  const torch::Tensor actions = module_->script.forward(inputs).toTensor().contiguous();
  if (is_discrete) {
    std::copy_n(actions.data_ptr<int64_t>(), slots, discrete.data());
  } else {
    std::copy_n(actions.data_ptr<float>(), slots, continuous.data());
  }
}

}  // namespace rl
