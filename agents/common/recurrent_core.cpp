#include "agents/common/recurrent_core.h"

#include <torch/nn/init.h>

#include <stdexcept>

namespace rl {

RecurrentOptions read_recurrent_options(ConfigSection& agent_section) {
  RecurrentOptions d;
  // Given, the mapping asks for a core (type lstm unless it says otherwise); absent, none.
  const std::string type = agent_section.has("recurrent") ? "lstm" : "none";
  ConfigSection s =
      agent_section.section("recurrent",
                            "Memory after the torso: {type: lstm | gru | none, hidden, layers, "
                            "sequence_length}");
  d.type = s.get_choice("type", type,
                        "Recurrent core: lstm, gru, or none (feed-forward); lstm when the "
                        "recurrent mapping is given",
                        {"none", "lstm", "gru"});
  d.hidden = s.get_int("hidden", d.hidden, "Units per recurrent layer", 1, 65536);
  d.layers = s.get_int("layers", d.layers, "Stacked recurrent layers", 1, 16);
  d.sequence_length = s.get_int("sequence_length", d.sequence_length,
                                "Steps per training sequence (truncated back-propagation "
                                "through time; must divide num_steps); 0: the whole rollout",
                                0, 1 << 20);
  s.finish();
  return d;
}

RecurrentCoreImpl::RecurrentCoreImpl(const RecurrentOptions& options, int64_t input_features)
    : options_(options) {
  if (!options.enabled()) throw std::invalid_argument("recurrent core of type none");
  if (options.type == "lstm") {
    lstm_ = register_module(
        "lstm",
        torch::nn::LSTM(
            torch::nn::LSTMOptions(input_features, options.hidden).num_layers(options.layers)));
  } else {
    gru_ = register_module(
        "gru",
        torch::nn::GRU(
            torch::nn::GRUOptions(input_features, options.hidden).num_layers(options.layers)));
  }
  // Orthogonal weights and zero biases, as CleanRL initialises its LSTM.
  torch::NoGradGuard no_grad;
  for (auto& parameter : named_parameters()) {
    if (parameter.key().find("bias") != std::string::npos) {
      parameter.value().zero_();
    } else {
      torch::nn::init::orthogonal_(parameter.value(), 1.0);
    }
  }
}

int64_t RecurrentCoreImpl::state_size() const {
  return options_.hidden * options_.layers * (lstm_ ? 2 : 1);
}

std::string RecurrentCoreImpl::signature() const {
  return options_.type + " " + std::to_string(options_.hidden) + "x" +
         std::to_string(options_.layers);
}

torch::Tensor RecurrentCoreImpl::step(const torch::Tensor& features, const torch::Tensor& state,
                                      torch::Tensor& next_state) {
  const int64_t batch = features.size(0);
  const int64_t layer_floats = options_.layers * options_.hidden;
  // [B, L * H] -> [L, B, H], the layout torch's recurrent modules take.
  const auto to_layers = [&](const torch::Tensor& part) {
    return part.reshape({batch, options_.layers, options_.hidden}).transpose(0, 1).contiguous();
  };
  const auto to_rows = [&](const torch::Tensor& layers) {
    return layers.transpose(0, 1).reshape({batch, layer_floats});
  };
  const torch::Tensor input = features.unsqueeze(0);
  if (lstm_) {
    const torch::Tensor h = to_layers(state.narrow(1, 0, layer_floats));
    const torch::Tensor c = to_layers(state.narrow(1, layer_floats, layer_floats));
    auto [output, hc] = lstm_->forward(input, std::make_tuple(h, c));
    next_state = torch::cat({to_rows(std::get<0>(hc)), to_rows(std::get<1>(hc))}, 1);
    return output.squeeze(0);
  }
  auto [output, h] = gru_->forward(input, to_layers(state));
  next_state = to_rows(h);
  return output.squeeze(0);
}

torch::Tensor RecurrentCoreImpl::sequence(const torch::Tensor& features, const torch::Tensor& state,
                                          const torch::Tensor& starts) {
  const int64_t steps = features.size(0);
  std::vector<torch::Tensor> outputs;
  outputs.reserve(static_cast<size_t>(steps));
  torch::Tensor current = state;
  for (int64_t t = 0; t < steps; ++t) {
    const torch::Tensor kept = current * (1.0 - starts[t]).unsqueeze(1);
    torch::Tensor next;
    outputs.push_back(step(features[t], kept, next));
    current = next;
  }
  return torch::stack(outputs);
}

}  // namespace rl
