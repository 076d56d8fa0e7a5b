#include "agents/a2c/a2c_agent.h"

#include <cmath>
#include <span>

#include "agents/a2c/a2c_losses.h"
#include "agents/common/agent_factory.h"
#include "agents/ppo/ppo_losses.h"

namespace rl {

namespace {

// Stable-Baselines3's A2C defaults.
OnPolicySettings a2c_defaults() {
  OnPolicySettings d;
  d.num_steps = 5;
  d.gae_lambda = 1.0;
  d.ent_coef = 0.0;
  d.vf_coef = 0.5;
  d.max_grad_norm = 0.5;
  d.normalize_advantages = false;
  d.optimizer = {"rmsprop", 7e-4, 1e-8, 0.99, 1e-5};
  d.anneal_lr = false;
  return d;
}

// 1 - Var(returns - values) / Var(returns), NAN when the returns do not vary.
double explained_variance(std::span<const float> returns, std::span<const float> values) {
  const size_t n = returns.size();
  if (n < 2) return NAN;
  double mean_r = 0, mean_e = 0;
  for (size_t i = 0; i < n; ++i) {
    mean_r += returns[i];
    mean_e += static_cast<double>(returns[i]) - values[i];
  }
  mean_r /= n;
  mean_e /= n;
  double var_r = 0, var_e = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = static_cast<double>(returns[i]) - values[i] - mean_e;
    var_r += (returns[i] - mean_r) * (returns[i] - mean_r);
    var_e += e * e;
  }
  return var_r > 0 ? 1.0 - var_e / var_r : NAN;
}

}  // namespace

A2cSettings read_a2c_settings(ConfigSection& section) {
  A2cSettings d;
  d.common = read_on_policy_settings(section, a2c_defaults());
  d.backend =
      section.get_choice("backend", d.backend,
                         "Network compute: auto (the small-network engine where it "
                         "applies: separate MLP torsos or the shared MinAtar CNN, rmsprop or "
                         "adam) or torch "
                         "(always LibTorch)",
                         {"auto", "torch"});
  return d;
}

A2cAgent::A2cAgent(const A2cSettings& settings, const AgentContext& context)
    : OnPolicyAgent(settings.common, context) {
  if (settings.backend == "auto") use_engine_if_applicable();
}

std::vector<std::string> A2cAgent::metric_names() const {
  return {"policy_loss", "value_loss", "entropy", "explained_variance",
          "grad_norm",   "lr",         "updates"};
}

std::map<std::string, double> A2cAgent::learn() {
  return engine() ? engine_learn() : torch_learn();
}

std::map<std::string, double> A2cAgent::engine_learn() {
  const int rows = static_cast<int>(rollout_.rows());
  const size_t n = static_cast<size_t>(rows);
  advantages_.assign(rollout_.advantages().begin(), rollout_.advantages().end());
  if (settings_.normalize_advantages && rows > 1 &&
      !normalize_advantages_across_ranks(advantages_)) {
    ppo::normalize_advantages(advantages_.data(), rows, advantages_.data());
  }
  const nn::ActorCriticEngine::Evaluation now = engine()->evaluate(
      rollout_observation_floats(), discrete_ ? rollout_.discrete_actions().data() : nullptr,
      discrete_ ? nullptr : rollout_.continuous_actions().data(),
      discrete_ ? rollout_.action_masks().data() : nullptr, rows);
  log_prob_gradient_.resize(n);
  entropy_gradient_.resize(n);
  value_gradient_.resize(n);
  const a2c::LossValues loss =
      a2c::rollout_loss({now.log_probs, now.entropies, now.values, advantages_.data(),
                         rollout_.returns().data(), rows},
                        {settings_.ent_coef, settings_.vf_coef}, log_prob_gradient_.data(),
                        entropy_gradient_.data(), value_gradient_.data());
  engine()->backward(log_prob_gradient_.data(), entropy_gradient_.data(), value_gradient_.data(),
                     rows);
  const double grad_norm = clip_and_step(rows);
  return {{"policy_loss", loss.policy_loss},
          {"value_loss", loss.value_loss},
          {"entropy", loss.entropy},
          {"explained_variance", explained_variance(rollout_.returns(), rollout_.values())},
          {"grad_norm", grad_norm}};
}

std::map<std::string, double> A2cAgent::torch_learn() {
  RolloutTensors r = rollout_tensors();
  Evaluation now;
  if (const RecurrentRollout* recurrent = recurrent_rollout()) {
    // Every env sequence at once; the other terms follow the evaluation's row order.
    const torch::Tensor ids = torch::arange(recurrent->sequences(), torch::kInt64);
    torch::Tensor rows;
    now = evaluate_sequences(r, ids.data_ptr<int64_t>(), ids.numel(), rows);
    r.advantages = r.advantages.index_select(0, rows);
    r.returns = r.returns.index_select(0, rows);
    r.values = r.values.index_select(0, rows);
  } else {
    now = evaluate_actions(r.observations, r.actions, r.legal_masks);
  }
  torch::Tensor advantages = r.advantages;
  // Across ranks, normalized in place in the rollout buffer (cleared after the update).
  if (settings_.normalize_advantages && advantages.numel() > 1 &&
      !normalize_advantages_across_ranks(
          {advantages.data_ptr<float>(), static_cast<size_t>(advantages.numel())})) {
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
  }
  const torch::Tensor policy_loss = -(advantages * now.log_prob).mean();
  const torch::Tensor value_loss = (r.returns - now.value).pow(2).mean();
  const torch::Tensor entropy = now.entropy.mean();
  const torch::Tensor loss =
      policy_loss - settings_.ent_coef * entropy + settings_.vf_coef * value_loss;
  optimizer_->zero_grad();
  loss.backward();
  const double grad_norm = clip_and_step(advantages.numel());
  const double variance = r.returns.var().item<double>();
  const double explained =
      variance > 0 ? 1.0 - (r.returns - r.values).var().item<double>() / variance : NAN;
  return {{"policy_loss", policy_loss.item<double>()},
          {"value_loss", value_loss.item<double>()},
          {"entropy", entropy.item<double>()},
          {"explained_variance", explained},
          {"grad_norm", grad_norm}};
}

void register_a2c_agent(AgentRegistry& registry) {
  registry.add({"a2c",
                "Advantage actor-critic: n-step rollouts, one gradient step each (discrete and "
                "continuous actions)",
                /*discrete_actions=*/true, /*continuous_actions=*/true,
                agent_factory<A2cAgent>(read_a2c_settings),
                /*evaluates_by_sampling=*/true});
}

}  // namespace rl
