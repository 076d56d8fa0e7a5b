#include "agents/export/recurrent_scripts.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include "agents/export/script_layers.h"

namespace rl::exporting {

namespace {

// One memory of a RecurrentCore (the actor's, or the critic's with `critic: true`): "lstm" or
// "gru", and its parameters by name (weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k>).
struct CoreLayers {
  std::string type;
  std::string prefix;  // Of its registered weights: "core_" (actor), "critic_core_".
  int64_t layers = 0, hidden = 0;
  torch::OrderedDict<std::string, torch::Tensor> parameters;
  int64_t state_floats() const { return layers * hidden * (type == "lstm" ? 2 : 1); }
};

std::shared_ptr<RecurrentCoreImpl> recurrent_core(ActorCriticImpl& net) {
  auto core = std::dynamic_pointer_cast<RecurrentCoreImpl>(net.named_children()["recurrent"]);
  if (!core) throw std::logic_error("export: the recurrent network has no RecurrentCore");
  return core;
}

// The core's memories: the actor's first, then the critic's when it has its own.
std::vector<CoreLayers> core_memories(ActorCriticImpl& net) {
  const auto core = recurrent_core(net);
  std::vector<CoreLayers> memories;
  for (const auto& child : core->named_children()) {
    if (child.key().rfind("head_", 0) == 0) continue;  // The layers per head (head_statements).
    const bool critic = child.key().rfind("critic_", 0) == 0;
    CoreLayers c;
    c.type = critic ? child.key().substr(7) : child.key();
    if (c.type != "lstm" && c.type != "gru") {
      throw std::invalid_argument("export: recurrent core '" + child.key() + "' has no exporter");
    }
    c.prefix = critic ? "critic_core_" : "core_";
    c.parameters = child.value()->named_parameters();
    c.hidden = core->hidden();
    while (c.parameters.contains("weight_ih_l" + std::to_string(c.layers))) ++c.layers;
    memories.push_back(std::move(c));
  }
  std::stable_sort(memories.begin(), memories.end(), [](const CoreLayers& a, const CoreLayers& b) {
    return a.prefix == "core_" && b.prefix != "core_";
  });
  return memories;
}

std::string slice(const std::string& tensor, int64_t begin, int64_t size) {
  return tensor + "[:, " + std::to_string(begin) + ":" + std::to_string(begin + size) + "]";
}

// Registers layer k's weights as <prefix><k>_{weight,bias}_{ih,hh}; returns the statements
// computing gi (input part) and gh (hidden part) of its gates from x and h<k>.
std::string gate_statements(torch::jit::Module& module, const CoreLayers& core, int64_t k) {
  const std::string layer = std::to_string(k);
  std::string statements;
  for (const std::string part : {"ih", "hh"}) {
    const std::string name = core.prefix + layer + "_";
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

// Statements running one memory, whose state starts at column `offset` of `state`, on the
// torso features `features`: its output is left in x, its next state's parts are appended to
// `parts` (h of every layer, then c of every layer for an LSTM).
std::string memory_statements(torch::jit::Module& module, const CoreLayers& core, int64_t offset,
                              std::string& parts) {
  const int64_t H = core.hidden, L = core.layers;
  std::string source = "    x = features\n";
  std::string hs, cs;
  for (int64_t k = 0; k < L; ++k) {
    const std::string layer = std::to_string(k);
    source += "    h" + layer + " = " + slice("state", offset + k * H, H) + "\n";
    source += gate_statements(module, core, k);
    if (core.type == "lstm") {
      source += "    c" + layer + " = " + slice("state", offset + (L + k) * H, H) + "\n";
      source += "    g = gi + gh\n";
      source += "    c" + layer + " = torch.sigmoid(" + slice("g", H, H) + ") * c" + layer +
                " + torch.sigmoid(" + slice("g", 0, H) + ") * torch.tanh(" + slice("g", 2 * H, H) +
                ")\n";
      source += "    h" + layer + " = torch.sigmoid(" + slice("g", 3 * H, H) + ") * torch.tanh(c" +
                layer + ")\n";
    } else {
      source += "    r = torch.sigmoid(" + slice("gi", 0, H) + " + " + slice("gh", 0, H) + ")\n";
      source += "    z = torch.sigmoid(" + slice("gi", H, H) + " + " + slice("gh", H, H) + ")\n";
      source +=
          "    n = torch.tanh(" + slice("gi", 2 * H, H) + " + r * " + slice("gh", 2 * H, H) + ")\n";
      source += "    h" + layer + " = (1.0 - z) * n + z * h" + layer + "\n";
    }
    source += "    x = h" + layer + "\n";
    // Named per memory so that the critic's do not overwrite the actor's.
    const std::string tag = core.prefix + layer;
    source += "    " + tag + "_h = h" + layer + "\n";
    hs += ", " + tag + "_h";
    if (core.type == "lstm") {
      source += "    " + tag + "_c = c" + layer + "\n";
      cs += ", " + tag + "_c";
    }
  }
  parts += hs + cs;
  return source;
}

// Statements applying the core's layers per head (recurrent.head_hidden) to actor_x and
// critic_x; none without them.
std::string head_statements(torch::jit::Module& module, const RecurrentCoreImpl& core) {
  if (!core.actor_head_layers()) return "";
  return "    x = actor_x\n" +
         sequential_statements(module, "core_head_actor", core.actor_head_layers()) +
         "    actor_x = x\n    x = critic_x\n" +
         sequential_statements(module, "core_head_critic", core.critic_head_layers()) +
         "    critic_x = x\n";
}

// memory(obs, state) -> (actor features, critic features, next state), step by step as
// RecurrentCoreImpl::step computes it (PyTorch's LSTM and GRU equations). Without a critic
// memory both features come from the one memory's output (through each head's layers).
std::string memory_method(torch::jit::Module& module, ActorCriticImpl& net,
                          const std::vector<CoreLayers>& memories, int64_t state_size) {
  std::string source =
      "def memory(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor, Tensor]:\n"
      "    assert state.dim() == 2 and state.shape[0] == obs.shape[0] and state.shape[1] == " +
      std::to_string(state_size) +
      ", 'rlcade policy: the state must be [B, state_size] (initial_state(B)), one row per "
      "observation'\n"
      "    x = self.preprocess(obs)\n" +
      sequential_statements(module, "actor_torso", net.actor_torso()) + "    features = x\n";
  std::string parts;
  int64_t offset = 0;
  for (size_t m = 0; m < memories.size(); ++m) {
    source += memory_statements(module, memories[m], offset, parts);
    source += std::string("    ") + (m == 0 ? "actor_x" : "critic_x") + " = x\n";
    offset += memories[m].state_floats();
  }
  if (memories.size() == 1) source += "    critic_x = actor_x\n";
  source += head_statements(module, *recurrent_core(net));
  return source + "    return actor_x, critic_x, torch.cat([" + parts.substr(2) + "], 1)\n";
}

}  // namespace

std::string recurrent_actor_critic_methods(torch::jit::Module& module, ActorCriticImpl& net,
                                           bool discrete) {
  const std::vector<CoreLayers> memories = core_memories(net);
  const int64_t state_size = net.state_size();
  std::string source =
      "def initial_state(self, batch: int = 1) -> Tensor:\n"
      "    return torch.zeros([batch, " +
      std::to_string(state_size) + "])\n" + memory_method(module, net, memories, state_size);
  source +=
      "def step_outputs(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor, Tensor]:\n"
      "    actor_x, critic_x, next_state = self.memory(obs, state)\n"
      "    return " +
      linear_expression(module, "actor_head", net.actor_head(), "actor_x") + ", " +
      linear_expression(module, "critic_head", net.critic_head(), "critic_x") +
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
