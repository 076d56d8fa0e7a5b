#include "agents/ppo/ppo_agent.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "agents/common/agent_factory.h"
#include "agents/ppo/minibatch_order.h"
#include "agents/ppo/ppo_losses.h"

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
  d.anneal_clip = s.get_bool("anneal_clip", d.anneal_clip,
                             "Decay clip_coef linearly to 0 over train.total_steps (RL Zoo's "
                             "lin_0.2 clip ranges)");
  d.clip_value_loss = s.get_bool("clip_value_loss", d.clip_value_loss,
                                 "Clip the value prediction's change by clip_coef too");
  d.target_kl =
      s.get_float("target_kl", d.target_kl,
                  "Stop the update when the approximate KL exceeds this; 0 disables", 0.0, 1e3);
  d.backend = s.get_choice("backend", d.backend,
                           "Network compute: auto (the small-network engine where it applies: "
                           "separate MLP torsos, or a shared minatar_cnn torso with Discrete "
                           "actions, and Adam) or torch (always LibTorch)",
                           {"auto", "torch"});
  d.learner_threads = s.get_int("learner_threads", d.learner_threads,
                                "2 runs the critic on a second core beside the actor (engine "
                                "backend; identical results); keep train.threads at 1",
                                1, 2);
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
  if (const RecurrentRollout* recurrent = recurrent_rollout();
      recurrent && settings.num_minibatches > recurrent->sequences()) {
    throw std::invalid_argument(
        "num_minibatches (" + std::to_string(settings.num_minibatches) +
        ") exceeds the recurrent rollout's sequences, num_envs x num_steps / sequence_length (" +
        std::to_string(recurrent->sequences()) + "): minibatches are whole env sequences");
  }
  if (settings.backend == "auto") use_engine_if_applicable();
  if (settings.learner_threads > 1) {
    if (!engine()) {
      throw std::invalid_argument(
          "ppo: learner_threads: 2 needs the engine backend (backend auto, separate MLP torsos, "
          "adam, no recurrent core)");
    }
    engine()->set_threads(static_cast<int>(settings.learner_threads));
  }
}

std::vector<std::string> PpoAgent::metric_names() const {
  return {"policy_loss",        "value_loss", "entropy", "approx_kl", "clip_fraction",
          "explained_variance", "grad_norm",  "epochs",  "lr",        "updates"};
}

double PpoAgent::clip_coef() const {
  return ppo_.anneal_clip ? ppo_.clip_coef * progress_remaining(updates_done()) : ppo_.clip_coef;
}

int64_t PpoAgent::used_rows(int64_t units, int64_t per_minibatch) const {
  // Rollouts cut short differ between the ranks: each must still run num_minibatches
  // minibatches, as many collectives as the others (rows that do not fill one are left out).
  return rollouts_cut_off() ? per_minibatch * ppo_.num_minibatches : units;
}

PpoAgent::Totals PpoAgent::torch_learn() {
  const RolloutTensors r = rollout_tensors();
  // Minibatches of rollout rows, or of whole env sequences for a recurrent network.
  const RecurrentRollout* recurrent = recurrent_rollout();
  const int64_t units = recurrent ? recurrent->sequences() : rollout_.rows();
  const int64_t per_minibatch = units / ppo_.num_minibatches;
  const int64_t used = used_rows(units, per_minibatch);
  const double clip = clip_coef();
  Totals totals;
  for (int64_t epoch = 0; epoch < ppo_.update_epochs && !last_update_.stopped_early; ++epoch) {
    const torch::Tensor order = torch::randperm(units, generator_, torch::kInt64);
    if (!recurrent) pool_epoch_advantages(order.data_ptr<int64_t>(), used, per_minibatch);
    for (int64_t start = 0; start + per_minibatch <= used; start += per_minibatch) {
      torch::Tensor index = order.slice(0, start, start + per_minibatch);
      const Evaluation now =
          recurrent ? evaluate_sequences(r, index.data_ptr<int64_t>(), per_minibatch, index)
                    : evaluate_actions(
                          r.observations.index_select(0, index), r.actions.index_select(0, index),
                          r.legal_masks.defined() ? r.legal_masks.index_select(0, index)
                                                  : torch::Tensor());
      const int64_t minibatch = index.size(0);
      const torch::Tensor old_log_probs = r.log_probs.index_select(0, index);
      const torch::Tensor log_ratio = now.log_prob - old_log_probs;
      double kl = 0, clipped = 0;
      {
        torch::NoGradGuard no_grad;
        const torch::Tensor ratio = log_ratio.exp();
        kl = ((ratio - 1) - log_ratio).mean().item<double>();
        clipped = ((ratio - 1).abs() > clip).to(torch::kFloat32).mean().item<double>();
        if (epoch == 0 && start == 0) {
          last_update_.first_ratio_max_deviation = (ratio - 1).abs().max().item<double>();
          last_update_.first_value_max_deviation =
              (now.value - r.values.index_select(0, index)).abs().max().item<double>();
        }
      }
      if (ppo_.target_kl > 0 && mean_over_ranks(kl) > ppo_.target_kl) {
        last_update_.stopped_early = true;
        break;
      }
      torch::Tensor advantages = r.advantages.index_select(0, index);  // A fresh copy.
      if (settings_.normalize_advantages && minibatch > 1 &&
          !normalize_advantages_across_ranks(
              {advantages.data_ptr<float>(), static_cast<size_t>(minibatch)})) {
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
      totals.grad_norm += clip_and_step(minibatch);
      totals.policy_loss += pg_loss.item<double>();
      totals.value_loss += v_loss.item<double>();
      totals.entropy += entropy_mean.item<double>();
      totals.approx_kl += kl;
      totals.clip_fraction += clipped;
      ++totals.steps;
      ++last_update_.minibatches_run;
    }
    ++last_update_.epochs_run;
  }
  return totals;
}

void PpoAgent::gather_minibatch(const float* observations, const int64_t* index,
                                int64_t minibatch) {
  Minibatch& m = minibatch_;
  const size_t rows = static_cast<size_t>(minibatch);
  const size_t features = static_cast<size_t>(context_.observation_space.numel());
  const size_t width = static_cast<size_t>(action_dim_);
  m.observations.resize(rows * features);
  m.log_probs.resize(rows);
  m.values.resize(rows);
  m.advantages.resize(rows);
  m.returns.resize(rows);
  m.log_prob_gradient.resize(rows);
  m.entropy_gradient.resize(rows);
  m.value_gradient.resize(rows);
  if (discrete_) {
    m.discrete_actions.resize(rows);
    m.legal.resize(rows * width);
  } else {
    m.box_actions.resize(rows * width);
  }
  for (size_t i = 0; i < rows; ++i) {
    const size_t row = static_cast<size_t>(index[i]);
    std::copy_n(observations + row * features, features, m.observations.data() + i * features);
    m.log_probs[i] = rollout_.log_probs()[row];
    m.values[i] = rollout_.values()[row];
    m.advantages[i] = rollout_.advantages()[row];
    m.returns[i] = rollout_.returns()[row];
    if (discrete_) {
      m.discrete_actions[i] = rollout_.discrete_actions()[row];
      std::copy_n(rollout_.action_masks().data() + row * width, width, m.legal.data() + i * width);
    } else {
      std::copy_n(rollout_.continuous_actions().data() + row * width, width,
                  m.box_actions.data() + i * width);
    }
  }
}

PpoAgent::Totals PpoAgent::engine_learn() {
  const int64_t rows = rollout_.rows();
  const int64_t minibatch = rows / ppo_.num_minibatches;
  const int64_t used = used_rows(rows, minibatch);
  const int batch = static_cast<int>(minibatch);
  const float* observations = rollout_observation_floats();
  const ppo::LossSettings loss_settings{clip_coef(), ppo_.clip_value_loss, settings_.ent_coef,
                                        settings_.vf_coef};
  Minibatch& m = minibatch_;
  Totals totals;
  for (int64_t epoch = 0; epoch < ppo_.update_epochs && !last_update_.stopped_early; ++epoch) {
    permutation_.resize(static_cast<size_t>(rows));
    ppo::random_permutation(generator_, rows, permutation_.data());
    const int64_t* index = permutation_.data();
    pool_epoch_advantages(index, used, minibatch);
    for (int64_t start = 0; start + minibatch <= used; start += minibatch) {
      gather_minibatch(observations, index + start, minibatch);
      const nn::ActorCriticEngine::Evaluation now =
          engine()->evaluate(m.observations.data(), m.discrete_actions.data(), m.box_actions.data(),
                             discrete_ ? m.legal.data() : nullptr, batch);
      if (settings_.normalize_advantages && minibatch > 1 &&
          !normalize_advantages_across_ranks(m.advantages)) {
        ppo::normalize_advantages(m.advantages.data(), batch, m.advantages.data());
      }
      const ppo::MinibatchTerms terms{
          now.log_probs, m.log_probs.data(), m.advantages.data(), now.entropies,
          now.values,    m.values.data(),    m.returns.data(),    batch};
      if (ppo_.target_kl > 0) {
        const ppo::LossValues ratio = ppo::ratio_statistics(terms, loss_settings);
        if (epoch == 0 && start == 0) {
          last_update_.first_ratio_max_deviation = ratio.max_ratio_deviation;
        }
        if (mean_over_ranks(ratio.approx_kl) > ppo_.target_kl) {
          last_update_.stopped_early = true;
          break;
        }
      }
      const ppo::LossValues loss =
          ppo::minibatch_loss(terms, loss_settings, m.log_prob_gradient.data(),
                              m.entropy_gradient.data(), m.value_gradient.data());
      if (epoch == 0 && start == 0) {
        last_update_.first_ratio_max_deviation = loss.max_ratio_deviation;
      }
      engine()->backward(m.log_prob_gradient.data(), m.entropy_gradient.data(),
                         m.value_gradient.data(), batch);
      totals.grad_norm += clip_and_step(minibatch);
      totals.policy_loss += loss.policy_loss;
      totals.value_loss += loss.value_loss;
      totals.entropy += loss.entropy;
      totals.approx_kl += loss.approx_kl;
      totals.clip_fraction += loss.clip_fraction;
      ++totals.steps;
      ++last_update_.minibatches_run;
    }
    ++last_update_.epochs_run;
  }
  return totals;
}

std::map<std::string, double> PpoAgent::learn() {
  last_update_ = {};
  const Totals t = engine() ? engine_learn() : torch_learn();
  const double n = std::max<int64_t>(1, t.steps);
  const double explained =
      ppo::explained_variance(rollout_.returns().data(), rollout_.values().data(), rollout_.rows());
  return {{"policy_loss", t.policy_loss / n},
          {"value_loss", t.value_loss / n},
          {"entropy", t.entropy / n},
          {"approx_kl", t.approx_kl / n},
          {"clip_fraction", t.clip_fraction / n},
          {"explained_variance", explained},
          {"grad_norm", t.grad_norm / n},
          {"epochs", static_cast<double>(last_update_.epochs_run)}};
}

void register_ppo_agent(AgentRegistry& registry) {
  registry.add({"ppo",
                "Proximal Policy Optimization: clipped surrogate, GAE, minibatch epochs "
                "(discrete and continuous actions)",
                /*discrete_actions=*/true, /*continuous_actions=*/true,
                agent_factory<PpoAgent>(read_ppo_settings),
                /*evaluates_by_sampling=*/true});
}

}  // namespace rl
