#include "agents/export/policy_export.h"

#include <torch/script.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "agents/export/agent_scripts.h"
#include "agents/export/script_layers.h"
#include "core/atomic_file.h"

namespace rl {

namespace {

using exporting::add_constant;

// What the policy's input is and how it becomes the network's input.
struct InputStage {
  Space space;  // Observations the module accepts (below normalize_observation).
  bool normalized = false;
  std::vector<double> mean, std;  // sqrt(variance + epsilon), per element.
  double clip = 0.0;
};

// A TorchScript float literal that reads back as exactly `value`.
std::string float_literal(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  std::string literal = text;
  if (literal.find_first_of(".en") == std::string::npos) literal += ".0";
  return literal;
}

std::string wrapper_names(const EnvConfig& env) {
  std::string names;
  for (const WrapperConfig& wrapper : env.wrappers) {
    names += (names.empty() ? "" : ", ") + wrapper.name;
  }
  return names;
}

InputStage input_stage(Experiment& experiment) {
  const EnvConfig& env = experiment.run().env;
  InputStage stage;
  stage.space = experiment.env_spec.observation_space;
  size_t normalizer = env.wrappers.size();
  for (size_t i = 0; i < env.wrappers.size(); ++i) {
    if (env.wrappers[i].name == "normalize_observation") normalizer = i;
  }
  if (normalizer == env.wrappers.size()) return stage;
  for (size_t i = normalizer + 1; i < env.wrappers.size(); ++i) {
    if (env.wrappers[i].name == "frame_stack") {
      throw std::invalid_argument(
          "export: frame_stack is applied after normalize_observation; the exported policy can "
          "only take the observations entering normalize_observation when it is the last "
          "observation wrapper");
    }
  }
  EnvConfig below = env;
  below.wrappers.resize(normalizer);
  WrapperContext unused;
  stage.space = make_configured_env(below, unused)->spec().observation_space;
  const auto& params = env.wrappers[normalizer].params;
  stage.clip = std::get<double>(params.at("clip"));
  const double epsilon = std::get<double>(params.at("epsilon"));
  const RunningStats stats = experiment.wrapper_context.observation_stats->snapshot();
  stage.normalized = true;
  for (size_t i = 0; i < stats.dim(); ++i) {
    const bool empty = stats.count() == 0.0;  // As SharedRunningStats::normalize: unchanged.
    stage.mean.push_back(empty ? 0.0 : stats.mean(i));
    stage.std.push_back(empty ? 1.0 : std::sqrt(stats.variance(i) + epsilon));
  }
  return stage;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t d : shape) text += (text.empty() ? "" : ", ") + std::to_string(d);
  return "[" + text + "]";
}

// preprocess(obs): checks the shape, normalizes with the frozen statistics (in double, as the
// wrapper does), then scales as the agent's ObservationInput does.
std::string preprocess_method(torch::jit::Module& module, const InputStage& stage, double scale) {
  const std::vector<int64_t> shape = stage.space.shape;
  std::string source =
      "def preprocess(self, obs: Tensor) -> Tensor:\n"
      "    assert obs.dim() == " +
      std::to_string(shape.size() + 1) +
      " and obs.shape[1:] == self.observation_shape, "
      "'rlcade policy: observations must be batch-first [B, " +
      shape_text(shape).substr(1) + "'\n";
  if (stage.normalized) {
    const auto as_tensor = [&](const std::vector<double>& values) {
      return torch::tensor(values, torch::kFloat64).reshape(shape);
    };
    add_constant(module, "observation_mean", as_tensor(stage.mean));
    add_constant(module, "observation_std", as_tensor(stage.std));
    source +=
        "    x = torch.clamp((obs.double() - self.observation_mean) / "
        "self.observation_std, " +
        float_literal(-stage.clip) + ", " + float_literal(stage.clip) + ").float()\n";
  } else {
    source += "    x = obs.float()\n";
  }
  if (scale != 1.0) source += "    x = x * " + float_literal(scale) + "\n";
  return source + "    return x\n";
}

torch::Tensor float_tensor(const std::vector<float>& values) {
  return torch::tensor(values, torch::kFloat32);
}

void add_space_attributes(torch::jit::Module& module, const InputStage& stage,
                          const Space& actions) {
  const Space& obs = stage.space;
  module.register_attribute("observation_shape", c10::ListType::ofInts(), obs.shape);
  module.register_attribute("observation_dtype", c10::StringType::get(),
                            std::string(obs.dtype == DType::kU8 ? "u8" : "f32"));
  add_constant(module, "observation_low", float_tensor(obs.low));
  add_constant(module, "observation_high", float_tensor(obs.high));
  module.register_attribute("observation_normalized", c10::BoolType::get(), stage.normalized);
  const bool discrete = actions.is_discrete();
  module.register_attribute("action_kind", c10::StringType::get(),
                            std::string(discrete ? "discrete" : "box"));
  module.register_attribute("num_actions", c10::IntType::get(), discrete ? actions.n : 0);
  module.register_attribute("action_shape", c10::ListType::ofInts(),
                            discrete ? std::vector<int64_t>{} : actions.shape);
  add_constant(module, "action_low", float_tensor(actions.low));
  add_constant(module, "action_high", float_tensor(actions.high));
  if (discrete) return;
  // SAC's squashing maps [-1, 1] to the bounds with these, computed as the agent does.
  std::vector<float> center, half_range;
  for (size_t i = 0; i < actions.low.size(); ++i) {
    center.push_back(0.5f * (actions.high[i] + actions.low[i]));
    half_range.push_back(0.5f * (actions.high[i] - actions.low[i]));
  }
  add_constant(module, "action_center", float_tensor(center));
  add_constant(module, "action_half_range", float_tensor(half_range));
}

std::string params_text(const std::map<std::string, ParamValue>& params) {
  std::string text;
  for (const auto& [key, value] : params) {
    text += (text.empty() ? "" : ", ") + key + "=" + param_to_string(value);
  }
  return text;
}

}  // namespace

torch::jit::Module export_policy(Experiment& experiment) {
  const InputStage stage = input_stage(experiment);
  const Space& actions = experiment.env_spec.action_space;
  torch::jit::Module module("__torch__.rlcade.Policy");
  const auto text = c10::StringType::get();
  module.register_attribute("rlcade_format", text, std::string(kPolicyFormat));
  module.register_attribute("agent_type", text, experiment.agent->type());
  module.register_attribute("env_id", text, experiment.run().env.id);
  module.register_attribute("env_params", text, params_text(experiment.run().env.params));
  module.register_attribute("env_wrappers", text, wrapper_names(experiment.run().env));
  add_space_attributes(module, stage, actions);
  const double scale = exporting::observation_input(*experiment.agent).scale();
  module.register_attribute("observation_scale", c10::FloatType::get(), scale);
  module.register_attribute("recurrent", c10::BoolType::get(), experiment.agent->recurrent());
  module.register_attribute("state_size", c10::IntType::get(),
                            experiment.agent->recurrent_state_size());
  const std::string methods = exporting::agent_methods(module, *experiment.agent, actions);
  module.define(preprocess_method(module, stage, scale) + methods);
  exporting::add_dense_plan(module, exporting::dense_path(*experiment.agent, actions), stage.clip);
  module.eval();
  return module;
}

void save_policy(const torch::jit::Module& policy, const std::string& path) {
  std::ostringstream bytes;
  policy.save(bytes);
  write_file_atomic(path, bytes.str());
}

}  // namespace rl
