#include "agents/export/agent_scripts.h"

#include <torch/nn/modules/container/sequential.h>

#include <memory>
#include <stdexcept>

#include "agents/common/on_policy.h"
#include "agents/dqn/dqn_agent.h"
#include "agents/export/recurrent_scripts.h"
#include "agents/export/script_layers.h"
#include "agents/sac/sac_agent.h"

namespace rl::exporting {

namespace {

// A method `name`(obs) -> Tensor that preprocesses, then runs `body` on x and returns x.
std::string method(const std::string& name, const std::string& body) {
  return "def " + name + "(self, obs: Tensor) -> Tensor:\n    x = self.preprocess(obs)\n" + body +
         "    return x\n";
}

// The discrete action methods choosing, with the expression `greedy`, from `scores` (the output
// of the method of that name), illegal actions scoring `illegal_score`:
//   act(obs), act_masked(obs, legal) and forward(obs, legal=None) calling one of them.
// act and act_masked have no Optional argument, so they also export to ONNX.
std::string discrete_forward(const std::string& scores, const std::string& illegal_score,
                             const std::string& greedy) {
  const std::string choose = "    return " + greedy + "\n";
  return "def act(self, obs: Tensor) -> Tensor:\n    scores = self." + scores + "(obs)\n" + choose +
         "def act_masked(self, obs: Tensor, legal: Tensor) -> Tensor:\n    scores = self." +
         scores +
         "(obs)\n"
         "    assert legal.shape == scores.shape, "
         "'rlcade policy: the legal-action mask must be [B, num_actions]'\n"
         "    scores = scores.masked_fill(legal == 0, " +
         illegal_score + ")\n" + choose +
         "def forward(self, obs: Tensor, legal: Optional[Tensor] = None) -> Tensor:\n"
         "    if legal is None:\n"
         "        return self.act(obs)\n"
         "    return self.act_masked(obs, legal)\n";
}

// The Box action methods: act(obs) returning `action`, and forward(obs) calling it.
std::string box_forward(const std::string& action) {
  return "def act(self, obs: Tensor) -> Tensor:\n    return " + action +
         "\ndef forward(self, obs: Tensor) -> Tensor:\n    return self.act(obs)\n";
}

// The argmax over log-softmax of masked logits, as Categorical::mode() chooses (masked logits
// are -1e8 there too), so near-ties resolve the same way.
std::string categorical_forward(const std::string& logits_method) {
  return discrete_forward(logits_method, "-1e8", "torch.log_softmax(scores, -1).argmax(-1)");
}

torch::nn::Sequential child_sequential(const torch::nn::Module& parent, const std::string& name) {
  auto child = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(parent.named_children()[name]);
  if (!child) throw std::logic_error("export: " + parent.name() + " has no Sequential " + name);
  return torch::nn::Sequential(child);
}

std::string dqn_methods(torch::jit::Module& module, const DqnAgent& agent) {
  const QNetworkImpl& net = *agent.network();
  std::string body = net.is_mlp() ? "    x = torch.flatten(x, 1)\n" : "";
  body += sequential_statements(module, "torso", child_sequential(net, "torso"));
  if (net.value()) {
    const std::string advantages = linear_expression(module, "head", net.head(), "x");
    const std::string value = linear_expression(module, "value", net.value(), "x");
    body += "    a = " + advantages + "\n    x = " + value + " + a - a.mean(1, keepdim=True)\n";
  } else {
    body += "    x = " + linear_expression(module, "head", net.head(), "x") + "\n";
  }
  return method("q_values", body) +
         discrete_forward("q_values", "float('-inf')", "scores.argmax(1)");
}

std::string actor_critic_methods(torch::jit::Module& module, OnPolicyAgent& agent, bool discrete) {
  ActorCriticImpl& net = *agent.network();
  if (net.recurrent()) return recurrent_actor_critic_methods(module, net, discrete);
  const std::string actor_torso = sequential_statements(module, "actor_torso", net.actor_torso());
  const std::string actor_head =
      "    x = " + linear_expression(module, "actor_head", net.actor_head(), "x") + "\n";
  const std::string critic_torso =
      net.critic_torso() ? sequential_statements(module, "critic_torso", net.critic_torso())
                         : actor_torso;
  const std::string critic_head =
      "    x = " + linear_expression(module, "critic_head", net.critic_head(), "x") +
      ".squeeze(-1)\n";
  std::string methods = method("value", critic_torso + critic_head);
  if (discrete)
    return methods + method("logits", actor_torso + actor_head) + categorical_forward("logits");
  add_constant(module, "log_std", net.log_std());
  return methods + method("mean", actor_torso + actor_head) +
         box_forward(
             "torch.minimum(torch.maximum(self.mean(obs), self.action_low), self.action_high)");
}

std::string sac_methods(torch::jit::Module& module, const SacAgent& agent, bool discrete) {
  const SacActorImpl& actor = *agent.actor();
  const std::string actor_body =
      sequential_statements(module, "actor_torso", actor.torso()) +
      "    x = " + linear_expression(module, "actor_mean", actor.mean_head(), "x") + "\n";
  if (!discrete) {
    return method("mean", actor_body) +
           box_forward("self.action_center + self.action_half_range * torch.tanh(self.mean(obs))");
  }
  // Q(s, .) = min(Q1, Q2), as the agent's action_values() reports it.
  std::string q_values =
      "def q_values(self, obs: Tensor) -> Tensor:\n    features = self.preprocess(obs)\n";
  int index = 1;
  for (const SacCritic* critic : {&agent.q1(), &agent.q2()}) {
    std::string name = "q";  // Built by appends: GCC 12 warns falsely on "q" + a temporary.
    name += std::to_string(index++);
    q_values += "    x = features\n" +
                sequential_statements(module, name + "_torso", (*critic)->torso()) + "    " + name +
                " = " + linear_expression(module, name + "_head", (*critic)->head(), "x") + "\n";
  }
  q_values += "    return torch.min(q1, q2)\n";
  return method("logits", actor_body) + q_values + categorical_forward("logits");
}

}  // namespace

namespace {

[[noreturn]] void no_exporter(const Agent& agent) {
  throw std::invalid_argument("export: agent type '" + agent.type() + "' has no exporter");
}

}  // namespace

const ObservationInput& observation_input(Agent& agent) {
  if (auto* dqn = dynamic_cast<DqnAgent*>(&agent)) return dqn->observation_input();
  if (auto* on_policy = dynamic_cast<OnPolicyAgent*>(&agent)) return on_policy->observation_input();
  if (auto* sac = dynamic_cast<SacAgent*>(&agent)) return sac->observation_input();
  no_exporter(agent);
}

DensePath dense_path(Agent& agent, const Space& action_space) {
  const bool discrete = action_space.is_discrete();
  if (auto* dqn = dynamic_cast<DqnAgent*>(&agent)) {
    const QNetworkImpl& net = *dqn->network();
    if (!net.is_mlp() || net.value()) return {};
    return mlp_path(child_sequential(net, "torso"), "torso", "head", "argmax");
  }
  if (auto* on_policy = dynamic_cast<OnPolicyAgent*>(&agent)) {
    const ActorCriticImpl& net = *on_policy->network();
    if (net.recurrent()) return {};
    return mlp_path(net.actor_torso(), "actor_torso", "actor_head",
                    discrete ? "categorical" : "clip");
  }
  if (auto* sac = dynamic_cast<SacAgent*>(&agent)) {
    return mlp_path(sac->actor()->torso(), "actor_torso", "actor_mean",
                    discrete ? "categorical" : "squash");
  }
  no_exporter(agent);
}

std::string agent_methods(torch::jit::Module& module, Agent& agent, const Space& action_space) {
  const bool discrete = action_space.is_discrete();
  if (auto* dqn = dynamic_cast<DqnAgent*>(&agent)) return dqn_methods(module, *dqn);
  if (auto* on_policy = dynamic_cast<OnPolicyAgent*>(&agent)) {
    return actor_critic_methods(module, *on_policy, discrete);
  }
  if (auto* sac = dynamic_cast<SacAgent*>(&agent)) return sac_methods(module, *sac, discrete);
  no_exporter(agent);
}

}  // namespace rl::exporting
