#include "agents/common/recurrent_core.h"

#include <torch/nn/init.h>

#include <stdexcept>

#include "agents/common/recurrent_sequence.h"

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
  const int64_t layers = options_.layers, hidden = options_.hidden;
  const torch::Tensor memory = state.to(torch::kFloat32).contiguous();
  const torch::Tensor resets = starts.to(torch::kFloat32).contiguous();
  torch::Tensor output = features;
  for (int64_t l = 0; l < layers; ++l) {
    const torch::Tensor h0 = memory.narrow(1, l * hidden, hidden).contiguous();
    const torch::Tensor c0 =
        lstm_ ? memory.narrow(1, (layers + l) * hidden, hidden).contiguous() : h0;
    output = recurrent_layer_sequence(
        lstm_ ? nn::RecurrentLayer::Cell::kLstm : nn::RecurrentLayer::Cell::kGru, output, h0, c0,
        resets, layer_parameters(l));
  }
  return output;
}

std::vector<torch::Tensor> RecurrentCoreImpl::layer_parameters(int64_t layer) const {
  const torch::nn::Module& module = lstm_ ? static_cast<const torch::nn::Module&>(*lstm_)
                                          : static_cast<const torch::nn::Module&>(*gru_);
  const auto parameters = module.named_parameters(false);
  const std::string l = std::to_string(layer);
  return {parameters["weight_ih_l" + l], parameters["weight_hh_l" + l], parameters["bias_ih_l" + l],
          parameters["bias_hh_l" + l]};
}

}  // namespace rl
