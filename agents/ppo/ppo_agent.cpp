#include "agents/ppo/ppo_agent.h"

#include <cmath>
#include <stdexcept>

#include "agents/common/agent_factory.h"

namespace rl {

PpoSettings read_ppo_settings(ConfigSection& s) {
  PpoSettings d;
  d.common = read_on_policy_settings(s, d.common);
  d.update_epochs =
      s.get_int("update_epochs", d.update_epochs, "Passes over each rollout", 1, 1000);
  d.num_minibatches = s.get_int("num_minibatches", d.num_minibatches,
                                "Minibatches per pass (rollout rows are split evenly)", 1, 1 << 20);
  d.clip_coef = s.get_float("clip_coef", d.clip_coef,
                            "Surrogate clipping: the ratio is kept in [1 - c, 1 + c]", 0.0, 10.0);
  d.clip_value_loss = s.get_bool("clip_value_loss", d.clip_value_loss,
                                 "Clip the value prediction's change by clip_coef too");
  d.target_kl =
      s.get_float("target_kl", d.target_kl,
                  "Stop the update when the approximate KL exceeds this; 0 disables", 0.0, 1e3);
  return d;
}

torch::Tensor clipped_surrogate_loss(const torch::Tensor& new_log_probs,
                                     const torch::Tensor& old_log_probs,
                                     const torch::Tensor& advantages, double clip_coef) {
  const torch::Tensor ratio = torch::exp(new_log_probs - old_log_probs);
  const torch::Tensor unclipped = -advantages * ratio;
  const torch::Tensor clipped = -advantages * torch::clamp(ratio, 1.0 - clip_coef, 1.0 + clip_coef);
  return torch::max(unclipped, clipped).mean();
}

PpoAgent::PpoAgent(const PpoSettings& settings, const AgentContext& context)
    : OnPolicyAgent(settings.common, context), ppo_(settings) {
  if (settings.num_minibatches > rollout_.rows()) {
    throw std::invalid_argument("num_minibatches (" + std::to_string(settings.num_minibatches) +
                                ") exceeds the rollout size num_steps x num_envs (" +
                                std::to_string(rollout_.rows()) + ")");
  }
}

std::vector<std::string> PpoAgent::metric_names() const {
  return {"policy_loss",        "value_loss", "entropy", "approx_kl", "clip_fraction",
          "explained_variance", "grad_norm",  "epochs",  "lr",        "updates"};
}

std::map<std::string, double> PpoAgent::learn() {
  const RolloutTensors r = rollout_tensors();
  const int64_t rows = rollout_.rows();
  const int64_t minibatch = rows / ppo_.num_minibatches;
  const double clip = ppo_.clip_coef;
  last_update_ = {};
  double policy_loss = 0, value_loss = 0, entropy = 0, approx_kl = 0, clip_fraction = 0,
         grad_norm = 0;
  int64_t steps = 0;
  for (int64_t epoch = 0; epoch < ppo_.update_epochs && !last_update_.stopped_early; ++epoch) {
    const torch::Tensor order = torch::randperm(rows, generator_, torch::kInt64);
    for (int64_t start = 0; start + minibatch <= rows; start += minibatch) {
      const torch::Tensor index = order.slice(0, start, start + minibatch);
      const torch::Tensor old_log_probs = r.log_probs.index_select(0, index);
      const Evaluation now = evaluate_actions(
          r.observations.index_select(0, index), r.actions.index_select(0, index),
          r.legal_masks.defined() ? r.legal_masks.index_select(0, index) : torch::Tensor());
      const torch::Tensor log_ratio = now.log_prob - old_log_probs;
      double kl = 0, clipped = 0;
      {
        torch::NoGradGuard no_grad;
        const torch::Tensor ratio = log_ratio.exp();
        kl = ((ratio - 1) - log_ratio).mean().item<double>();
        clipped = ((ratio - 1).abs() > clip).to(torch::kFloat32).mean().item<double>();
        if (epoch == 0 && start == 0) {
          last_update_.first_ratio_max_deviation = (ratio - 1).abs().max().item<double>();
        }
      }
      if (ppo_.target_kl > 0 && kl > ppo_.target_kl) {
        last_update_.stopped_early = true;
        break;
      }
      torch::Tensor advantages = r.advantages.index_select(0, index);
      if (settings_.normalize_advantages && minibatch > 1) {
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
      }
      const torch::Tensor pg_loss =
          clipped_surrogate_loss(now.log_prob, old_log_probs, advantages, clip);
      const torch::Tensor returns = r.returns.index_select(0, index);
      torch::Tensor v_loss = (now.value - returns).pow(2);
      if (ppo_.clip_value_loss) {
        const torch::Tensor old_values = r.values.index_select(0, index);
        const torch::Tensor clipped_value =
            old_values + torch::clamp(now.value - old_values, -clip, clip);
        v_loss = torch::max(v_loss, (clipped_value - returns).pow(2));
      }
      v_loss = 0.5 * v_loss.mean();
      const torch::Tensor entropy_mean = now.entropy.mean();
      const torch::Tensor loss =
          pg_loss - settings_.ent_coef * entropy_mean + settings_.vf_coef * v_loss;
      optimizer_->zero_grad();
      loss.backward();
      grad_norm += clip_and_step();
      policy_loss += pg_loss.item<double>();
      value_loss += v_loss.item<double>();
      entropy += entropy_mean.item<double>();
      approx_kl += kl;
      clip_fraction += clipped;
      ++steps;
      ++last_update_.minibatches_run;
    }
    ++last_update_.epochs_run;
  }
  const double n = std::max<int64_t>(1, steps);
  const torch::Tensor variance = r.returns.var();
  const double explained = variance.item<double>() > 0
                               ? 1.0 - ((r.returns - r.values).var() / variance).item<double>()
                               : NAN;
  return {{"policy_loss", policy_loss / n},
          {"value_loss", value_loss / n},
          {"entropy", entropy / n},
          {"approx_kl", approx_kl / n},
          {"clip_fraction", clip_fraction / n},
          {"explained_variance", explained},
          {"grad_norm", grad_norm / n},
          {"epochs", static_cast<double>(last_update_.epochs_run)}};
}

void register_ppo_agent(AgentRegistry& registry) {
  registry.add({"ppo",
                "Proximal Policy Optimization: clipped surrogate, GAE, minibatch epochs "
                "(discrete and continuous actions)",
                /*discrete_actions=*/true, /*continuous_actions=*/true,
                agent_factory<PpoAgent>(read_ppo_settings)});
}

}  // namespace rl
