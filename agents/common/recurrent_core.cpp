#include "agents/common/recurrent_core.h"

#include <torch/autograd.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include <cmath>
#include <stdexcept>

#include "agents/common/recurrent_sequence.h"
#include "agents/common/torso.h"

namespace rl {

RecurrentOptions read_recurrent_options(ConfigSection& agent_section) {
  RecurrentOptions d;
  // Given, the mapping asks for a core (type lstm unless it says otherwise); absent, none.
  const std::string type = agent_section.has("recurrent") ? "lstm" : "none";
  ConfigSection s =
      agent_section.section("recurrent",
                            "Memory after the torso: {type: lstm | gru | none, hidden, layers, "
                            "sequence_length, critic, head_hidden, head_activation, forget_bias}");
  d.type = s.get_choice("type", type,
                        "Recurrent core: lstm, gru, or none (feed-forward); lstm when the "
                        "recurrent mapping is given",
                        {"none", "lstm", "gru"});
  d.hidden = s.get_int("hidden", d.hidden, "Units per recurrent layer", 1, 65536);
  d.layers = s.get_int("layers", d.layers, "Stacked recurrent layers", 1, 16);
  d.critic = s.get_bool("critic", d.critic,
                        "A recurrent memory of its own for the value head (SB3's "
                        "enable_critic_lstm); else actor and critic share one");
  d.sequence_length = s.get_int("sequence_length", d.sequence_length,
                                "Steps per training sequence (truncated back-propagation "
                                "through time; must divide num_steps); 0: the whole rollout",
                                0, 1 << 20);
  d.head_hidden = s.get_int_list("head_hidden", d.head_hidden,
                                 "Units of the layers each head (actor, critic) gets after the "
                                 "memory (SB3's net_arch after the LSTM); empty: none",
                                 1, 65536);
  d.head_activation =
      s.get_choice("head_activation", d.head_activation,
                   "Activation after each head_hidden layer: tanh or relu", {"tanh", "relu"});
  d.forget_bias = s.get_float("forget_bias", d.forget_bias,
                              "Initial bias of the LSTM forget gate (1: Jozefowicz et al. 2015); "
                              "the other biases start at zero",
                              -100.0, 100.0);
  if (d.forget_bias != 0.0 && d.type != "lstm")
    s.fail("forget_bias", "only an lstm has a forget gate (type is " + d.type + ")");
  s.finish();
  return d;
}

RecurrentCoreImpl::RecurrentCoreImpl(const RecurrentOptions& options, int64_t input_features)
    : options_(options) {
  if (!options.enabled()) throw std::invalid_argument("recurrent core of type none");
  actor_ = make_memory("", input_features);
  if (options.critic) critic_ = make_memory("critic_", input_features);
  // Orthogonal weights and zero biases, as CleanRL initialises its LSTM.
  torch::NoGradGuard no_grad;
  for (auto& parameter : named_parameters()) {
    if (parameter.key().find("bias") != std::string::npos) {
      parameter.value().zero_();
    } else {
      torch::nn::init::orthogonal_(parameter.value(), 1.0);
    }
  }
  if (options.forget_bias != 0.0) set_forget_bias(options.forget_bias);
  if (!options.head_hidden.empty()) {  // Created after the loop: they have their own gain.
    actor_head_layers_ = make_head_layers("head_actor");
    critic_head_layers_ = make_head_layers("head_critic");
  }
}

void RecurrentCoreImpl::set_forget_bias(double value) {
  // PyTorch adds bias_ih and bias_hh; the forget gate is the second of the gates i, f, g, o.
  // bias_ih carries the value, bias_hh stays zero.
  const int64_t hidden = options_.hidden;
  for (auto& parameter : named_parameters()) {
    if (parameter.key().find("bias_ih") == std::string::npos) continue;
    parameter.value().narrow(0, hidden, hidden).fill_(value);
  }
}

torch::nn::Sequential RecurrentCoreImpl::make_head_layers(const std::string& name) {
  torch::nn::Sequential layers;
  int64_t inputs = options_.hidden;
  for (const int64_t units : options_.head_hidden) {
    layers->push_back(torch::nn::Linear(inputs, units));
    if (options_.head_activation == "relu") {
      layers->push_back(torch::nn::ReLU());
    } else {
      layers->push_back(torch::nn::Tanh());
    }
    inputs = units;
  }
  orthogonal_init(*layers, std::sqrt(2.0));  // As the torsos (CleanRL, SB3's ortho_init).
  return register_module(name, layers);
}

torch::Tensor RecurrentCoreImpl::outputs(const torch::Tensor& actor, const torch::Tensor& critic) {
  if (actor_head_layers_) {
    return torch::cat({actor_head_layers_->forward(actor), critic_head_layers_->forward(critic)},
                      -1);
  }
  return options_.critic ? torch::cat({actor, critic}, -1) : actor;
}

RecurrentCoreImpl::Memory RecurrentCoreImpl::make_memory(const std::string& name,
                                                         int64_t input_features) {
  Memory memory;
  if (options_.type == "lstm") {
    memory.lstm = register_module(
        name + "lstm",
        torch::nn::LSTM(
            torch::nn::LSTMOptions(input_features, options_.hidden).num_layers(options_.layers)));
  } else {
    memory.gru = register_module(
        name + "gru",
        torch::nn::GRU(
            torch::nn::GRUOptions(input_features, options_.hidden).num_layers(options_.layers)));
  }
  return memory;
}

int64_t RecurrentCoreImpl::memory_state_size() const {
  return options_.hidden * options_.layers * (options_.type == "lstm" ? 2 : 1);
}

int64_t RecurrentCoreImpl::state_size() const {
  return memory_state_size() * (options_.critic ? 2 : 1);
}

std::string RecurrentCoreImpl::signature() const {
  std::string heads;
  for (const int64_t units : options_.head_hidden) {
    heads +=
        (heads.empty() ? " -> " + options_.head_activation + " " : "x") + std::to_string(units);
  }
  if (!heads.empty()) heads += " per head";
  return options_.type + " " + std::to_string(options_.hidden) + "x" +
         std::to_string(options_.layers) + (options_.critic ? " + critic " + options_.type : "") +
         heads;
}

torch::Tensor RecurrentCoreImpl::step(const torch::Tensor& features, const torch::Tensor& state,
                                      torch::Tensor& next_state) {
  if (!options_.critic) {
    const torch::Tensor memory = step_memory(actor_, features, state, next_state);
    return outputs(memory, memory);
  }
  const int64_t size = memory_state_size();
  torch::Tensor actor_next, critic_next;
  const torch::Tensor actor = step_memory(actor_, features, state.narrow(1, 0, size), actor_next);
  const torch::Tensor critic =
      step_memory(critic_, features, state.narrow(1, size, size), critic_next);
  next_state = torch::cat({actor_next, critic_next}, 1);
  return outputs(actor, critic);
}

torch::Tensor RecurrentCoreImpl::step_memory(Memory& memory, const torch::Tensor& features,
                                             const torch::Tensor& state,
                                             torch::Tensor& next_state) {
  if (!torch::GradMode::is_enabled()) return step_memory_blas(memory, features, state, next_state);
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
  if (memory.lstm) {
    const torch::Tensor h = to_layers(state.narrow(1, 0, layer_floats));
    const torch::Tensor c = to_layers(state.narrow(1, layer_floats, layer_floats));
    auto [output, hc] = memory.lstm->forward(input, std::make_tuple(h, c));
    next_state = torch::cat({to_rows(std::get<0>(hc)), to_rows(std::get<1>(hc))}, 1);
    return output.squeeze(0);
  }
  auto [output, h] = memory.gru->forward(input, to_layers(state));
  next_state = to_rows(h);
  return output.squeeze(0);
}

torch::Tensor RecurrentCoreImpl::step_memory_blas(const Memory& memory,
                                                  const torch::Tensor& features,
                                                  const torch::Tensor& state,
                                                  torch::Tensor& next_state) {
  const int64_t batch = features.size(0), layers = options_.layers, hidden = options_.hidden;
  const bool lstm = static_cast<bool>(memory.lstm);
  const auto cell = lstm ? nn::RecurrentLayer::Cell::kLstm : nn::RecurrentLayer::Cell::kGru;
  const torch::Tensor before = state.to(torch::kFloat32);
  const torch::Tensor no_starts = torch::zeros({1, batch}, torch::kFloat32);
  std::vector<torch::Tensor> h_after(layers), c_after(layers);
  torch::Tensor output = features.to(torch::kFloat32).contiguous();
  for (int64_t l = 0; l < layers; ++l) {
    const torch::Tensor h0 = before.narrow(1, l * hidden, hidden).contiguous();
    const torch::Tensor c0 =
        lstm ? before.narrow(1, (layers + l) * hidden, hidden).contiguous() : h0;
    std::vector<torch::Tensor> p = layer_parameters(memory, l);
    for (torch::Tensor& parameter : p) parameter = parameter.contiguous();
    nn::RecurrentLayer layer(cell, output.size(1), hidden);
    torch::Tensor y = torch::empty({batch, hidden}, torch::kFloat32);
    c_after[l] = torch::empty({batch, hidden}, torch::kFloat32);
    layer.forward({p[0].data_ptr<float>(), p[1].data_ptr<float>(), p[2].data_ptr<float>(),
                   p[3].data_ptr<float>()},
                  1, batch, output.data_ptr<float>(), h0.data_ptr<float>(), c0.data_ptr<float>(),
                  no_starts.data_ptr<float>(), y.data_ptr<float>(), nullptr,
                  lstm ? c_after[l].data_ptr<float>() : nullptr);
    h_after[l] = y;  // One step: the output is the new hidden state.
    output = y;
  }
  std::vector<torch::Tensor> rows = h_after;
  if (lstm) rows.insert(rows.end(), c_after.begin(), c_after.end());
  next_state = torch::cat(rows, 1);
  return output;
}

torch::Tensor RecurrentCoreImpl::sequence(const torch::Tensor& features, const torch::Tensor& state,
                                          const torch::Tensor& starts) {
  const torch::Tensor memory = state.to(torch::kFloat32).contiguous();
  const torch::Tensor resets = starts.to(torch::kFloat32).contiguous();
  if (!options_.critic) {
    const torch::Tensor shared = sequence_memory(actor_, features, memory, resets);
    return outputs(shared, shared);
  }
  const int64_t size = memory_state_size();
  return outputs(sequence_memory(actor_, features, memory.narrow(1, 0, size), resets),
                 sequence_memory(critic_, features, memory.narrow(1, size, size), resets));
}

torch::Tensor RecurrentCoreImpl::sequence_memory(const Memory& memory,
                                                 const torch::Tensor& features,
                                                 const torch::Tensor& state,
                                                 const torch::Tensor& starts) {
  const int64_t layers = options_.layers, hidden = options_.hidden;
  const auto cell = memory.lstm ? nn::RecurrentLayer::Cell::kLstm : nn::RecurrentLayer::Cell::kGru;
  torch::Tensor output = features;
  for (int64_t l = 0; l < layers; ++l) {
    const torch::Tensor h0 = state.narrow(1, l * hidden, hidden).contiguous();
    const torch::Tensor c0 =
        memory.lstm ? state.narrow(1, (layers + l) * hidden, hidden).contiguous() : h0;
    output = recurrent_layer_sequence(cell, output, h0, c0, starts, layer_parameters(memory, l));
  }
  return output;
}

std::vector<torch::Tensor> RecurrentCoreImpl::layer_parameters(const Memory& memory,
                                                               int64_t layer) {
  const torch::nn::Module& module = memory.lstm
                                        ? static_cast<const torch::nn::Module&>(*memory.lstm)
                                        : static_cast<const torch::nn::Module&>(*memory.gru);
  const auto parameters = module.named_parameters(false);
  const std::string l = std::to_string(layer);
  return {parameters["weight_ih_l" + l], parameters["weight_hh_l" + l], parameters["bias_ih_l" + l],
          parameters["bias_hh_l" + l]};
}

}  // namespace rl
