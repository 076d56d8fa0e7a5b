#include "agents/policy.h"

#include <torch/script.h>

#include <filesystem>

#include "agents/common/action_masks.h"
#include "agents/export/dense_plan.h"
#include "agents/export/policy_export.h"

namespace rl {

struct Policy::Module {
  torch::jit::Module script;
  std::unique_ptr<exporting::DensePolicy> dense;  // Null: the TorchScript forward acts.
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
  Policy policy(std::make_unique<Module>(Module{read_script(path), nullptr}));
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
    if (script.hasattr("state_size")) policy.state_size_ = script.attr("state_size").toInt();
    policy.state_.assign(static_cast<size_t>(policy.state_size_), 0.f);
    policy.module_->dense = exporting::DensePolicy::from_module(script, policy.observation_space_,
                                                                policy.action_space_);
  } catch (const std::exception& e) {
    throw PolicyLoadError(path + ": an rlcade policy with damaged attributes (" + e.what() + ")");
  }
  return policy;
}

const char* Policy::engine() const { return module_->dense ? "dense" : "torchscript"; }

Action Policy::act(std::span<const uint8_t> observation, std::span<const uint8_t> legal) {
  int64_t index = 0;
  const bool discrete = action_space_.is_discrete();
  const std::span<int64_t> index_out(&index, discrete ? 1u : 0u);
  const std::span<float> values_out =
      discrete ? std::span<float>() : std::span<float>(action_values_);
  if (recurrent()) {
    step(observation, 1, state_, index_out, values_out, legal);
  } else {
    act(observation, 1, index_out, values_out, legal);
  }
  return discrete ? Action::discrete(index) : Action::continuous(action_values_);
}

void Policy::reset_state() { std::fill(state_.begin(), state_.end(), 0.f); }

void Policy::check_call(size_t observation_bytes, int batch, size_t action_slots,
                        std::span<const uint8_t> legal) const {
  const bool is_discrete = action_space_.is_discrete();
  const size_t bytes = observation_space_.bytes();
  if (batch < 1 || observation_bytes != bytes * static_cast<size_t>(batch)) {
    throw std::invalid_argument("Policy::act: expected " + std::to_string(batch) +
                                " observation(s) of " + std::to_string(bytes) + " bytes (" +
                                observation_space_.describe() + "), got " +
                                std::to_string(observation_bytes) + " bytes");
  }
  const size_t slots = static_cast<size_t>(batch) * (is_discrete ? 1 : action_space_.numel());
  if (action_slots != slots) {
    throw std::invalid_argument("Policy::act: the action output needs " + std::to_string(slots) +
                                " entries");
  }
  if (!legal.empty()) {
    if (!is_discrete) throw std::invalid_argument("Policy::act: masks need Discrete actions");
    check_action_masks(legal, batch, action_space_.n, "Policy::act");
  }
}

namespace {

torch::Tensor observation_tensor(std::span<const uint8_t> observations, int batch,
                                 const Space& space) {
  std::vector<int64_t> shape = {batch};
  shape.insert(shape.end(), space.shape.begin(), space.shape.end());
  const auto dtype = space.dtype == DType::kU8 ? torch::kUInt8 : torch::kFloat32;
  return torch::from_blob(const_cast<uint8_t*>(observations.data()), shape, dtype);
}

void copy_actions(const torch::Tensor& actions, std::span<int64_t> discrete,
                  std::span<float> continuous) {
  const torch::Tensor a = actions.contiguous();
  if (!discrete.empty()) {
    std::copy_n(a.data_ptr<int64_t>(), discrete.size(), discrete.data());
  } else {
    std::copy_n(a.data_ptr<float>(), continuous.size(), continuous.data());
  }
}

}  // namespace

void Policy::act(std::span<const uint8_t> observations, int batch, std::span<int64_t> discrete,
                 std::span<float> continuous, std::span<const uint8_t> legal) {
  if (recurrent()) {
    throw std::logic_error(
        "Policy::act: a recurrent policy needs its envs' memory: use step() with a state of "
        "state_size() floats per env, or act() on one observation");
  }
  const bool is_discrete = action_space_.is_discrete();
  check_call(observations.size(), batch, is_discrete ? discrete.size() : continuous.size(), legal);
  if (module_->dense) {
    return module_->dense->act(observations.data(), batch, legal.empty() ? nullptr : legal.data(),
                               discrete.data(), continuous.data());
  }
  torch::InferenceMode inference;
  std::vector<c10::IValue> inputs = {observation_tensor(observations, batch, observation_space_)};
  if (!legal.empty()) {
    inputs.emplace_back(torch::from_blob(const_cast<uint8_t*>(legal.data()),
                                         {batch, action_space_.n}, torch::kUInt8));
  }
  copy_actions(module_->script.forward(inputs).toTensor(),
               is_discrete ? discrete : std::span<int64_t>(), continuous);
}

void Policy::step(std::span<const uint8_t> observations, int batch, std::span<float> state,
                  std::span<int64_t> discrete, std::span<float> continuous,
                  std::span<const uint8_t> legal) {
  if (!recurrent()) return act(observations, batch, discrete, continuous, legal);
  const bool is_discrete = action_space_.is_discrete();
  check_call(observations.size(), batch, is_discrete ? discrete.size() : continuous.size(), legal);
  if (state.size() != static_cast<size_t>(batch * state_size_)) {
    throw std::invalid_argument("Policy::step: the state needs " + std::to_string(state_size_) +
                                " floats per observation (" + std::to_string(batch * state_size_) +
                                "), got " + std::to_string(state.size()));
  }
  torch::InferenceMode inference;
  std::vector<c10::IValue> inputs = {observation_tensor(observations, batch, observation_space_),
                                     torch::from_blob(state.data(), {batch, state_size_})};
  if (!legal.empty()) {
    inputs.emplace_back(torch::from_blob(const_cast<uint8_t*>(legal.data()),
                                         {batch, action_space_.n}, torch::kUInt8));
  }
  const auto outputs = module_->script.get_method("step")(inputs).toTuple();
  copy_actions(outputs->elements()[0].toTensor(), is_discrete ? discrete : std::span<int64_t>(),
               continuous);
  const torch::Tensor next = outputs->elements()[1].toTensor().contiguous();
  std::copy_n(next.data_ptr<float>(), state.size(), state.data());
}

}  // namespace rl
