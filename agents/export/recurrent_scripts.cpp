#include "agents/export/recurrent_scripts.h"

#include <memory>
#include <stdexcept>

#include "agents/export/script_layers.h"

namespace rl::exporting {

namespace {

// The recurrent layers of a RecurrentCore: "lstm" or "gru", and its parameters by name
// (weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k>).
struct CoreLayers {
  std::string type;
  int64_t layers = 0, hidden = 0;
  torch::OrderedDict<std::string, torch::Tensor> parameters;
};

CoreLayers core_layers(ActorCriticImpl& net) {
  auto core = std::dynamic_pointer_cast<RecurrentCoreImpl>(net.named_children()["recurrent"]);
  if (!core) throw std::logic_error("export: the recurrent network has no RecurrentCore");
  CoreLayers c;
  for (const auto& child : core->named_children()) c.type = child.key();
  if (c.type != "lstm" && c.type != "gru") {
    throw std::invalid_argument("export: recurrent core '" + c.type + "' has no exporter");
  }
  c.parameters = core->named_children()[c.type]->named_parameters();
  c.hidden = core->hidden();
  while (c.parameters.contains("weight_ih_l" + std::to_string(c.layers))) ++c.layers;
  return c;
}

std::string slice(const std::string& tensor, int64_t begin, int64_t size) {
  return tensor + "[:, " + std::to_string(begin) + ":" + std::to_string(begin + size) + "]";
}

// Registers layer k's weights as core_<k>_{weight,bias}_{ih,hh}; returns the statements
// computing gi (input part) and gh (hidden part) of its gates from x and h<k>.
std::string gate_statements(torch::jit::Module& module, const CoreLayers& core, int64_t k) {
  const std::string layer = std::to_string(k);
  std::string statements;
  for (const std::string part : {"ih", "hh"}) {
    const std::string name = "core_" + layer + "_";
    for (const std::string kind : {"weight", "bias"}) {
      module.register_parameter(name + kind + "_" + part,
                                core.parameters[kind + "_" + part + "_l" + layer].detach().clone(),
                                /*is_buffer=*/false);
    }
    const std::string input = part == "ih" ? "x" : "h" + layer;
    statements += "    g" + part.substr(0, 1) + " = torch.linear(" + input + ", self." + name +
                  "weight_" + part + ", self." + name + "bias_" + part + ")\n";
  }
  return statements;
}

// memory(obs, state) -> (core output [B, hidden], next state), step by step as
// RecurrentCoreImpl::step computes it (PyTorch's LSTM and GRU equations).
std::string memory_method(torch::jit::Module& module, ActorCriticImpl& net, const CoreLayers& core,
                          int64_t state_size) {
  const int64_t H = core.hidden, L = core.layers;
  std::string source =
      "def memory(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor]:\n"
      "    assert state.dim() == 2 and state.shape[0] == obs.shape[0] and state.shape[1] == " +
      std::to_string(state_size) +
      ", 'rlcade policy: the state must be [B, state_size] (initial_state(B)), one row per "
      "observation'\n"
      "    x = self.preprocess(obs)\n" +
      sequential_statements(module, "actor_torso", net.actor_torso());
  std::string hs, cs;
  for (int64_t k = 0; k < L; ++k) {
    const std::string layer = std::to_string(k);
    source += "    h" + layer + " = " + slice("state", k * H, H) + "\n";
    source += gate_statements(module, core, k);
    if (core.type == "lstm") {
      source += "    c" + layer + " = " + slice("state", (L + k) * H, H) + "\n";
      source += "    g = gi + gh\n";
      source += "    c" + layer + " = torch.sigmoid(" + slice("g", H, H) + ") * c" + layer +
                " + torch.sigmoid(" + slice("g", 0, H) + ") * torch.tanh(" + slice("g", 2 * H, H) +
                ")\n";
      source += "    h" + layer + " = torch.sigmoid(" + slice("g", 3 * H, H) + ") * torch.tanh(c" +
                layer + ")\n";
      cs += ", c" + layer;
    } else {
      source += "    r = torch.sigmoid(" + slice("gi", 0, H) + " + " + slice("gh", 0, H) + ")\n";
      source += "    z = torch.sigmoid(" + slice("gi", H, H) + " + " + slice("gh", H, H) + ")\n";
      source +=
          "    n = torch.tanh(" + slice("gi", 2 * H, H) + " + r * " + slice("gh", 2 * H, H) + ")\n";
      source += "    h" + layer + " = (1.0 - z) * n + z * h" + layer + "\n";
    }
    source += "    x = h" + layer + "\n";
    hs += (hs.empty() ? "h" : ", h") + layer;
  }
  return source + "    return x, torch.cat([" + hs + cs + "], 1)\n";
}

}  // namespace

std::string recurrent_actor_critic_methods(torch::jit::Module& module, ActorCriticImpl& net,
                                           bool discrete) {
  const CoreLayers core = core_layers(net);
  const int64_t state_size = net.state_size();
  std::string source =
      "def initial_state(self, batch: int = 1) -> Tensor:\n"
      "    return torch.zeros([batch, " +
      std::to_string(state_size) + "])\n" + memory_method(module, net, core, state_size);
  source +=
      "def step_outputs(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor, Tensor]:\n"
      "    x, next_state = self.memory(obs, state)\n"
      "    return " +
      linear_expression(module, "actor_head", net.actor_head(), "x") + ", " +
      linear_expression(module, "critic_head", net.critic_head(), "x") +
      ".squeeze(-1), next_state\n";
  if (!discrete) {
    add_constant(module, "log_std", net.log_std());
    return source +
           "def act_step(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor]:\n"
           "    mean, value, next_state = self.step_outputs(obs, state)\n"
           "    return torch.minimum(torch.maximum(mean, self.action_low), self.action_high), "
           "next_state\n"
           "def step(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor]:\n"
           "    return self.act_step(obs, state)\n"
           "def forward(self, obs: Tensor) -> Tensor:\n"
           "    return self.act_step(obs, self.initial_state(obs.shape[0]))[0]\n";
  }
  // The agent's Categorical mode: argmax of log_softmax, masked logits -1e8.
  return source +
         "def act_step(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor]:\n"
         "    logits, value, next_state = self.step_outputs(obs, state)\n"
         "    return torch.log_softmax(logits, -1).argmax(-1), next_state\n"
         "def act_step_masked(self, obs: Tensor, state: Tensor, legal: Tensor) -> "
         "Tuple[Tensor, Tensor]:\n"
         "    logits, value, next_state = self.step_outputs(obs, state)\n"
         "    assert legal.shape == logits.shape, "
         "'rlcade policy: the legal-action mask must be [B, num_actions]'\n"
         "    logits = logits.masked_fill(legal == 0, -1e8)\n"
         "    return torch.log_softmax(logits, -1).argmax(-1), next_state\n"
         "def step(self, obs: Tensor, state: Tensor, legal: Optional[Tensor] = None) -> "
         "Tuple[Tensor, Tensor]:\n"
         "    if legal is None:\n"
         "        return self.act_step(obs, state)\n"
         "    return self.act_step_masked(obs, state, legal)\n"
         "def forward(self, obs: Tensor, legal: Optional[Tensor] = None) -> Tensor:\n"
         "    return self.step(obs, self.initial_state(obs.shape[0]), legal)[0]\n";
}

}  // namespace rl::exporting
