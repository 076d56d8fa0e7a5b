#include "agents/common/on_policy.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "agents/archive_util.h"
#include "agents/common/action_masks.h"
#include "agents/distributed/collectives.h"

namespace rl {

namespace {

RolloutOptions rollout_options(const OnPolicySettings& s, const AgentContext& context) {
  RolloutOptions o;
  o.num_steps = static_cast<int>(s.num_steps);
  o.num_envs = context.num_envs;
  o.gamma = s.gamma;
  o.gae_lambda = s.gae_lambda;
  o.action_masks = context.action_space.is_discrete();
  return o;
}

ActorCriticOptions network_options(const OnPolicySettings& s, const AgentContext& context) {
  ActorCriticOptions o;
  o.observation_shape = context.observation_space.shape;
  o.discrete = context.action_space.is_discrete();
  o.action_dim = o.discrete ? context.action_space.n : context.action_space.numel();
  o.torso = s.torso;
  o.shared_torso = s.shared_torso;
  o.initial_log_std = s.initial_log_std;
  o.recurrent = s.recurrent;
  return o;
}

torch::Tensor float_view(std::span<const float> data, std::vector<int64_t> shape) {
  return torch::from_blob(const_cast<float*>(data.data()), shape, torch::kFloat32);
}

}  // namespace

OnPolicySettings read_on_policy_settings(ConfigSection& s, OnPolicySettings d) {
  d.torso = read_torso_options(s, d.torso, "");
  d.shared_torso = s.get_bool("shared_torso", d.shared_torso,
                              "One torso for policy and value heads (else one each)");
  d.recurrent = read_recurrent_options(s);
  d.initial_log_std = s.get_float("initial_log_std", d.initial_log_std,
                                  "Box actions: initial log standard deviation", -20.0, 5.0);
  d.num_steps = s.get_int("num_steps", d.num_steps, "Steps per env in each rollout", 1, 1 << 20);
  d.gamma = s.get_float("gamma", d.gamma, "Discount factor", 0.0, 1.0);
  d.gae_lambda = s.get_float("gae_lambda", d.gae_lambda,
                             "GAE lambda (1: n-step returns to the rollout end)", 0.0, 1.0);
  d.ent_coef = s.get_float("ent_coef", d.ent_coef, "Entropy bonus coefficient", 0.0, 1e3);
  d.vf_coef = s.get_float("vf_coef", d.vf_coef, "Value loss coefficient", 0.0, 1e3);
  d.max_grad_norm =
      s.get_float("max_grad_norm", d.max_grad_norm,
                  "Clip the global gradient norm to this; 0 disables clipping", 0.0, 1e9);
  d.normalize_advantages = s.get_bool("normalize_advantages", d.normalize_advantages,
                                      "Normalize advantages to mean 0, std 1 per (mini)batch");
  d.optimizer = read_optimizer_settings(s, d.optimizer, "adam or rmsprop");
  d.anneal_lr = s.get_bool("anneal_lr", d.anneal_lr,
                           "Decay the learning rate linearly to 0 over train.total_steps");
  d.observation_scale = s.get_float("observation_scale", d.observation_scale,
                                    "Observation multiplier; 0 = auto (1/255 for u8 images with "
                                    "values up to 255, else 1)",
                                    0.0, 1e6);
  d.normalize_reward = s.get_bool("normalize_reward", d.normalize_reward,
                                  "Divide rewards by the running std of the discounted return "
                                  "(statistics saved in checkpoints)");
  d.reward_clip = s.get_float("reward_clip", d.reward_clip,
                              "Clip normalized rewards to [-reward_clip, reward_clip]", 1e-6, 1e9);
  return d;
}

OnPolicyAgent::OnPolicyAgent(const OnPolicySettings& settings, const AgentContext& context)
    : settings_(settings),
      context_(context),
      input_(context.observation_space, settings.observation_scale),
      rollout_(context.observation_space, context.action_space, rollout_options(settings, context)),
      generator_(make_generator(context.seed ^ 0x6f6e706f6c696379ULL)),
      sampling_generator_(make_generator(context.seed)) {
  torch::manual_seed(context.seed);
  net_ = ActorCritic(network_options(settings, context));
  optimizer_ = make_optimizer(net_->parameters(), settings.optimizer);
  if (net_->recurrent()) {
    recurrent_ =
        std::make_unique<RecurrentRollout>(settings.num_steps, context.num_envs, net_->state_size(),
                                           settings.recurrent.sequence_length);
  }
  discrete_ = context.action_space.is_discrete();
  action_dim_ = discrete_ ? context.action_space.n : context.action_space.numel();
  if (!discrete_) {
    action_low_ = context.action_space.low;
    action_high_ = context.action_space.high;
  }
  if (settings.normalize_reward) {
    reward_normalizer_.emplace(context.num_envs, settings.gamma, settings.reward_clip);
  }
  const int64_t per_update = settings.num_steps * context.num_envs;
  total_updates_ = std::max<int64_t>(1, context.total_steps / per_update);
  const size_t n = static_cast<size_t>(context.num_envs);
  pending_values_.resize(n);
  pending_log_probs_.resize(n);
  pending_discrete_.resize(n);
  pending_actions_.resize(n * static_cast<size_t>(discrete_ ? 1 : action_dim_));
  if (discrete_) pending_masks_.assign(n * static_cast<size_t>(action_dim_), 1);
  rewards_.resize(n);
  final_values_.resize(n);
  last_values_.resize(n);
  episode_ends_.resize(n);
  last_observations_.resize(n * input_.bytes());
}

std::string OnPolicyAgent::describe() const {
  return type() + ": " + net_->signature() + ", rollout " + std::to_string(settings_.num_steps) +
         " x " + std::to_string(context_.num_envs) + " envs, " + settings_.optimizer.kind +
         (engine_ ? std::string(", engine backend (") + engine_->network_kind() + ")"
                  : std::string(", torch backend"));
}

bool OnPolicyAgent::use_engine_if_applicable() {
  if (net_->recurrent()) return false;  // The engine has no recurrent layers.
  const OptimizerSettings& o = settings_.optimizer;
  if ((o.kind != "adam" && o.kind != "rmsprop") || !nn::ActorCriticEngine::applies(*net_)) {
    return false;
  }
  engine_ = std::make_unique<nn::ActorCriticEngine>(*net_, discrete_, action_dim_,
                                                    context_.observation_space.shape);
  FlatOptimizerOptions options;
  options.kind =
      o.kind == "adam" ? FlatOptimizerOptions::Kind::kAdam : FlatOptimizerOptions::Kind::kRmsprop;
  options.lr = o.lr;
  options.adam_eps = o.adam_eps;
  options.rmsprop_alpha = o.rmsprop_alpha;
  options.rmsprop_eps = o.rmsprop_eps;
  optimizer_.reset();  // Its parameter handles would go stale once they move to the flat buffer.
  flat_optimizer_ = std::make_unique<FlatOptimizer>(*net_, options);
  return true;
}

const float* OnPolicyAgent::rollout_observation_floats() {
  return input_.floats(rollout_.observations().data(), rollout_.rows(), rollout_floats_);
}

void OnPolicyAgent::estimate_values(const uint8_t* observations, int batch, float* values) {
  if (engine_) {
    const float* v =
        engine_->values(input_.floats(observations, batch, observation_floats_), batch);
    std::copy_n(v, batch, values);
    return;
  }
  torch::InferenceMode inference;
  const torch::Tensor v =
      (recurrent_ ? policy_output(input_(observations, batch), &recurrent_->acting_state()).value
                  : net_->value(input_(observations, batch)))
          .contiguous();
  std::memcpy(values, v.data_ptr<float>(), sizeof(float) * batch);
}

void OnPolicyAgent::engine_act(std::span<const uint8_t> observations, int batch, ActMode mode,
                               ActionBatch out) {
  const bool training = mode == ActMode::kExplore;
  const bool sampled = mode != ActMode::kGreedy;
  at::Generator& generator = training ? generator_ : sampling_generator_;
  const float* obs = input_.floats(observations.data(), batch, observation_floats_);
  const int64_t width = discrete_ ? 1 : action_dim_;
  if (sampled && (!random_draws_.defined() || random_draws_.size(0) != batch)) {
    random_draws_ = torch::empty({batch, width});
  }
  float* log_probs = training ? pending_log_probs_.data() : nullptr;
  float* values = training ? pending_values_.data() : nullptr;
  if (discrete_) {
    if (out.discrete.size() != static_cast<size_t>(batch)) {
      throw std::invalid_argument(type() + ": the action output needs one slot per observation");
    }
    const uint8_t* legal = nullptr;
    if (!out.legal_actions.empty()) {
      check_action_masks(out.legal_actions, batch, action_dim_, type());
      legal = out.legal_actions.data();
    }
    const float* uniforms =
        sampled ? random_draws_.uniform_(0.0, 1.0, generator).data_ptr<float>() : nullptr;
    engine_->act_discrete(obs, batch, legal, uniforms, out.discrete.data(), log_probs, values);
    if (!training) return;
    std::copy_n(out.discrete.data(), batch, pending_discrete_.data());
    if (legal) {
      std::copy(out.legal_actions.begin(), out.legal_actions.end(), pending_masks_.begin());
    } else {
      std::fill(pending_masks_.begin(), pending_masks_.end(), uint8_t{1});
    }
  } else {
    if (out.continuous.size() != static_cast<size_t>(batch * action_dim_)) {
      throw std::invalid_argument(type() + ": the action output needs " +
                                  std::to_string(action_dim_) + " values per observation");
    }
    const float* noise =
        sampled ? random_draws_.normal_(0.0, 1.0, generator).data_ptr<float>() : nullptr;
    // The unclipped actions go to pending_actions_ (training) or straight to the output.
    float* raw = training ? pending_actions_.data() : out.continuous.data();
    engine_->act_box(obs, batch, noise, raw, log_probs, values);
    for (size_t i = 0; i < out.continuous.size(); ++i) {
      const size_t d = i % static_cast<size_t>(action_dim_);
      out.continuous[i] = std::clamp(raw[i], action_low_[d], action_high_[d]);
    }
  }
  if (training) pending_ = true;
}

double OnPolicyAgent::progress_remaining(int64_t updates_done) const {
  // Cut rollouts make the number of updates unknown in advance.
  if (cutoff_) return progress_by_steps_;
  return std::max(0.0,
                  1.0 - static_cast<double>(updates_done) / static_cast<double>(total_updates_));
}

double OnPolicyAgent::learning_rate(int64_t updates_done) const {
  if (!settings_.anneal_lr) return settings_.optimizer.lr;
  return settings_.optimizer.lr * progress_remaining(updates_done);
}

torch::Tensor OnPolicyAgent::legal_mask_tensor(std::span<const uint8_t> masks, int batch) const {
  if (masks.empty() || !discrete_) return {};
  check_action_masks(masks, batch, action_dim_, type());
  return torch::from_blob(const_cast<uint8_t*>(masks.data()), {batch, action_dim_}, torch::kUInt8)
      .to(torch::kBool);
}

void OnPolicyAgent::act(std::span<const uint8_t> observations, int batch, ActMode mode,
                        ActionBatch out) {
  if (observations.size() != input_.bytes() * static_cast<size_t>(batch)) {
    throw std::invalid_argument(type() + ": expected " + std::to_string(batch) +
                                " observations of " + std::to_string(input_.bytes()) + " bytes");
  }
  const bool training = mode == ActMode::kExplore;
  if (training && batch != context_.num_envs) {
    throw std::invalid_argument(type() + ": training acts on " + std::to_string(context_.num_envs) +
                                " envs, got " + std::to_string(batch));
  }
  if (engine_) return engine_act(observations, batch, mode, out);
  const bool sampled = mode != ActMode::kGreedy;
  at::Generator& generator = training ? generator_ : sampling_generator_;
  const torch::Tensor legal = legal_mask_tensor(out.legal_actions, batch);
  RecurrentState* state = acting_state(mode, out.recurrent_state, batch);
  torch::InferenceMode inference;
  torch::Tensor next_state;
  const PolicyOutput output = policy_output(input_(observations.data(), batch), state, &next_state);
  if (state) {
    std::memcpy(state->values.data(), next_state.contiguous().data_ptr<float>(),
                sizeof(float) * state->values.size());
  }
  torch::Tensor actions, log_probs;
  if (discrete_) {
    const Categorical dist(output.actor, legal);
    actions = (sampled ? dist.sample(generator) : dist.mode()).contiguous();
    if (training) log_probs = dist.log_prob(actions).contiguous();
  } else {
    const DiagGaussian dist(output.actor, net_->log_std());
    actions = (sampled ? dist.sample(generator) : dist.mode()).contiguous();
    if (training) log_probs = dist.log_prob(actions).contiguous();
  }
  if (discrete_) {
    if (out.discrete.size() != static_cast<size_t>(batch)) {
      throw std::invalid_argument(type() + ": the action output needs one slot per observation");
    }
    std::memcpy(out.discrete.data(), actions.data_ptr<int64_t>(), sizeof(int64_t) * batch);
  } else {
    if (out.continuous.size() != static_cast<size_t>(batch * action_dim_)) {
      throw std::invalid_argument(type() + ": the action output needs " +
                                  std::to_string(action_dim_) + " values per observation");
    }
    const float* raw = actions.data_ptr<float>();
    for (size_t i = 0; i < out.continuous.size(); ++i) {
      const size_t d = i % static_cast<size_t>(action_dim_);
      out.continuous[i] = std::clamp(raw[i], action_low_[d], action_high_[d]);
    }
  }
  if (!training) return;
  // Remember what observe() stores: the unclipped action and its log-prob, V(s), the masks.
  const torch::Tensor values = output.value.contiguous();
  std::memcpy(pending_log_probs_.data(), log_probs.data_ptr<float>(), sizeof(float) * batch);
  std::memcpy(pending_values_.data(), values.data_ptr<float>(), sizeof(float) * batch);
  if (discrete_) {
    std::memcpy(pending_discrete_.data(), actions.data_ptr<int64_t>(), sizeof(int64_t) * batch);
    if (out.legal_actions.empty()) {
      std::fill(pending_masks_.begin(), pending_masks_.end(), uint8_t{1});
    } else {
      std::copy(out.legal_actions.begin(), out.legal_actions.end(), pending_masks_.begin());
    }
  } else {
    std::memcpy(pending_actions_.data(), actions.data_ptr<float>(),
                sizeof(float) * pending_actions_.size());
  }
  pending_ = true;
}

PolicyOutput OnPolicyAgent::policy_output(const torch::Tensor& observations,
                                          const RecurrentState* state, torch::Tensor* next_state) {
  if (!net_->recurrent()) return net_->forward(observations);
  const torch::Tensor memory = torch::from_blob(const_cast<float*>(state->values.data()),
                                                {observations.size(0), state->size});
  torch::Tensor next;
  PolicyOutput output = net_->forward_step(observations, memory, next);
  if (next_state) *next_state = next;
  return output;
}

RecurrentState* OnPolicyAgent::acting_state(ActMode mode, RecurrentState* caller, int batch) {
  if (!recurrent_) return nullptr;
  if (mode == ActMode::kExplore) {
    recurrent_->begin_step(rollout_.steps());
    return &recurrent_->acting_state();
  }
  if (!caller) {
    throw std::invalid_argument(
        type() +
        ": outside training, a recurrent policy acts from the caller's memory: "
        "pass ActionBatch::recurrent_state (Agent::initial_state)");
  }
  if (caller->slots != batch || caller->size != net_->state_size() ||
      caller->values.size() != static_cast<size_t>(batch * caller->size)) {
    throw std::invalid_argument(
        type() + ": the recurrent state has " + std::to_string(caller->slots) + " slots of " +
        std::to_string(caller->size) + " floats; expected " + std::to_string(batch) + " slots of " +
        std::to_string(net_->state_size()));
  }
  return caller;
}

ActionValues OnPolicyAgent::action_values(std::span<const uint8_t> observation) {
  if (recurrent_) {
    throw std::invalid_argument(type() +
                                ": a recurrent policy needs its memory: action_values_with_state");
  }
  return action_values_with_state(observation, RecurrentState{});
}

ActionValues OnPolicyAgent::action_values_with_state(std::span<const uint8_t> observation,
                                                     const RecurrentState& state) {
  if (observation.size() != input_.bytes()) {
    throw std::invalid_argument(type() + ": expected one observation of " +
                                std::to_string(input_.bytes()) + " bytes");
  }
  if (recurrent_ && (state.size != net_->state_size() || state.slots < 1 ||
                     state.values.size() < static_cast<size_t>(state.size))) {
    throw std::invalid_argument(type() + ": the recurrent state needs a slot of " +
                                std::to_string(net_->state_size()) + " floats");
  }
  torch::InferenceMode inference;
  const PolicyOutput output = policy_output(input_(observation.data(), 1), &state);
  const torch::Tensor values =
      (discrete_ ? Categorical(output.actor).probs() : output.actor).contiguous();
  const float* data = values.data_ptr<float>();
  return {discrete_ ? "probability" : "mean", std::vector<float>(data, data + values.numel())};
}

void OnPolicyAgent::observe(const TransitionBatch& t) {
  if (!pending_) {
    throw std::logic_error(type() + ": observe() without a preceding act() in explore mode");
  }
  if (t.batch != context_.num_envs) {
    throw std::invalid_argument(type() + ": expected transitions of " +
                                std::to_string(context_.num_envs) + " envs");
  }
  pending_ = false;
  const size_t n = static_cast<size_t>(t.batch);
  bool any_truncated = false;
  for (size_t i = 0; i < n; ++i) {
    rewards_[i] = t.rewards[i];
    episode_ends_[i] = t.terminated[i] || t.truncated[i];
    any_truncated |= t.truncated[i] && !t.terminated[i];
  }
  if (reward_normalizer_) reward_normalizer_->normalize(rewards_, episode_ends_);
  if (any_truncated) estimate_values(t.next_observations.data(), t.batch, final_values_.data());
  RolloutStep step;
  step.observations = t.observations;
  if (discrete_) {
    step.discrete_actions = pending_discrete_;
    step.action_masks = pending_masks_;
  } else {
    step.continuous_actions = pending_actions_;
  }
  step.rewards = rewards_;
  step.values = pending_values_;
  step.log_probs = pending_log_probs_;
  step.terminated = t.terminated;
  step.truncated = t.truncated;
  if (any_truncated) step.final_values = final_values_;
  rollout_.add(step);
  if (cutoff_ && cutoff_->rollout_over(rollout_.steps()) && !rollout_.full()) rollout_.end_early();
  if (recurrent_) recurrent_->end_step(episode_ends_);
  std::memcpy(last_observations_.data(), t.next_observations.data(), last_observations_.size());
}

std::map<std::string, double> OnPolicyAgent::update(int64_t env_steps) {
  if (!rollout_.full()) return {};
  if (reward_stats_merge_) {
    const RunningStats own = RunningStats::load(reward_normalizer_->save());
    reward_normalizer_->load(reward_stats_merge_->merge(*collectives_, own).save());
  }
  // After the last step, envs whose episode ended do not bootstrap, so the final observation
  // stored for them is as good as the next episode's first one.
  estimate_values(last_observations_.data(), context_.num_envs, last_values_.data());
  rollout_.compute_advantages(last_values_);
  if (cutoff_) {
    const double done = static_cast<double>(env_steps) / static_cast<double>(context_.total_steps);
    progress_by_steps_ = std::clamp(1.0 - done, 0.0, 1.0);
  }
  const double lr = learning_rate(updates_done_);
  if (flat_optimizer_) {
    flat_optimizer_->set_lr(lr);
  } else {
    set_learning_rate(*optimizer_, lr);
  }
  std::map<std::string, double> metrics = learn();
  epoch_advantages_.clear();  // Left over when target_kl stopped an epoch early.
  rollout_.clear();
  if (cutoff_) cutoff_->next_rollout();  // Every rank is past this rollout's collectives.
  ++updates_done_;
  metrics["lr"] = lr;
  metrics["updates"] = static_cast<double>(updates_done_);
  return metrics;
}

OnPolicyAgent::Evaluation OnPolicyAgent::evaluate_actions(const torch::Tensor& observations,
                                                          const torch::Tensor& actions,
                                                          const torch::Tensor& legal_masks) {
  const PolicyOutput output = net_->forward(observations);
  if (discrete_) {
    Categorical dist(output.actor, legal_masks);
    return {dist.log_prob(actions), dist.entropy(), output.value};
  }
  DiagGaussian dist(output.actor, net_->log_std());
  return {dist.log_prob(actions), dist.entropy(), output.value};
}

OnPolicyAgent::Evaluation OnPolicyAgent::evaluate_sequences(const RolloutTensors& r,
                                                            const int64_t* ids, int64_t count,
                                                            torch::Tensor& rows) {
  const RecurrentRollout::Batch batch = recurrent_->gather(ids, count);
  rows = batch.rows;
  const PolicyOutput output =
      net_->forward_sequence(r.observations.index_select(0, rows), batch.state, batch.starts);
  const torch::Tensor actions = r.actions.index_select(0, rows);
  if (discrete_) {
    const torch::Tensor legal =
        r.legal_masks.defined() ? r.legal_masks.index_select(0, rows) : torch::Tensor();
    Categorical dist(output.actor, legal);
    return {dist.log_prob(actions), dist.entropy(), output.value};
  }
  DiagGaussian dist(output.actor, net_->log_std());
  return {dist.log_prob(actions), dist.entropy(), output.value};
}

OnPolicyAgent::RolloutTensors OnPolicyAgent::rollout_tensors() const {
  const int64_t rows = rollout_.rows();
  RolloutTensors r;
  r.observations = input_(rollout_.observations().data(), rows);
  if (discrete_) {
    r.actions = torch::from_blob(const_cast<int64_t*>(rollout_.discrete_actions().data()), {rows},
                                 torch::kInt64);
    r.legal_masks = torch::from_blob(const_cast<uint8_t*>(rollout_.action_masks().data()),
                                     {rows, action_dim_}, torch::kUInt8)
                        .to(torch::kBool);
  } else {
    r.actions = float_view(rollout_.continuous_actions(), {rows, action_dim_});
  }
  r.log_probs = float_view(rollout_.log_probs(), {rows});
  r.values = float_view(rollout_.values(), {rows});
  r.advantages = float_view(rollout_.advantages(), {rows});
  r.returns = float_view(rollout_.returns(), {rows});
  return r;
}

double OnPolicyAgent::clip_and_step(int64_t rows) {
  if (cutoff_) {
    collectives_->average_gradients(net_->parameters(), static_cast<double>(rows));
  } else if (collectives_) {
    collectives_->average_gradients(net_->parameters());
  }
  if (flat_optimizer_) return flat_optimizer_->step(settings_.max_grad_norm);
  double norm = 0.0;
  if (settings_.max_grad_norm > 0) {
    norm = torch::nn::utils::clip_grad_norm_(net_->parameters(), settings_.max_grad_norm);
  }
  optimizer_->step();
  return norm;
}

void OnPolicyAgent::set_collectives(distributed::Collectives* collectives) {
  collectives_ = collectives;
  if (engine_) {
    // The CNN's hidden-layer and head gradients may be summed while its conv gradient is
    // computed (when the group overlaps them; the weighted averages of the cut-off do not).
    nn::ConvActorCritic::GradientsReady hook;
    if (collectives) {
      hook = [this](const std::vector<torch::Tensor>& parameters) {
        if (!cutoff_) collectives_->gradients_ready(parameters);
      };
    }
    engine_->set_gradients_ready(std::move(hook));
  }
  if (!collectives) return;
  const int rank = collectives->rank();
  collectives->broadcast(net_->parameters(), 0);
  collectives->broadcast(net_->buffers(), 0);
  if (reward_normalizer_)
    reward_stats_merge_.emplace(RunningStats::load(reward_normalizer_->save()));
  if (rank > 0)
    generator_ =
        make_generator(context_.seed ^ 0x6f6e706f6c696379ULL ^ (0x9e3779b97f4a7c15ULL * rank));
  const int64_t per_update = settings_.num_steps * context_.num_envs * collectives->world_size();
  total_updates_ = std::max<int64_t>(1, context_.total_steps / per_update);
}

void OnPolicyAgent::enable_rollout_cutoff(const distributed::CutoffSettings& settings) {
  if (!collectives_) throw std::logic_error(type() + ": the rollout cut-off needs set_collectives");
  if (!settings.enabled()) return;
  if (recurrent_) {
    throw ConfigError(
        "distributed.sync_fraction: the straggler cut-off needs whole rollouts for "
        "a recurrent network's sequences: leave it at 1");
  }
  auto cutoff = std::make_unique<distributed::RolloutCutoff>(*collectives_, settings,
                                                             static_cast<int>(settings_.num_steps));
  const int64_t fewest = cutoff->minimum_steps() * static_cast<int64_t>(context_.num_envs);
  if (fewest < minimum_update_rows()) {
    throw ConfigError("distributed.min_rollout_fraction " +
                      std::to_string(settings.min_rollout_fraction) + " lets a rollout end after " +
                      std::to_string(cutoff->minimum_steps()) + " steps x " +
                      std::to_string(context_.num_envs) + " envs = " + std::to_string(fewest) +
                      " rows, fewer than an update needs (" +
                      std::to_string(minimum_update_rows()) + "): raise it");
  }
  cutoff_ = std::move(cutoff);
}

bool OnPolicyAgent::normalize_advantages_across_ranks(std::span<float> advantages) {
  if (!collectives_) return false;
  if (epoch_advantages_.normalize_next(advantages)) return true;
  double moments[3] = {static_cast<double>(advantages.size()), 0.0, 0.0};
  for (const float a : advantages) {
    moments[1] += a;
    moments[2] += static_cast<double>(a) * a;
  }
  collectives_->sum(moments);
  distributed::normalize_with_moments(advantages, moments);
  return true;
}

void OnPolicyAgent::pool_epoch_advantages(const int64_t* order, int64_t rows,
                                          int64_t per_minibatch) {
  if (!collectives_ || !settings_.normalize_advantages || per_minibatch < 2) return;
  epoch_advantages_.pool(*collectives_, rollout_.advantages().data(), order, rows, per_minibatch);
}

double OnPolicyAgent::mean_over_ranks(double value) {
  if (!collectives_) return value;
  double total[1] = {value};
  collectives_->sum(total);
  return total[0] / collectives_->world_size();
}

void OnPolicyAgent::save(torch::serialize::OutputArchive& archive) const {
  write_network_signature(archive, net_->signature());
  write_module(archive, "net", *net_);
  if (flat_optimizer_) {
    torch::serialize::OutputArchive state;
    flat_optimizer_->save(state);
    archive.write("flat_optimizer", state);
  } else {
    write_optimizer(archive, "optimizer", *optimizer_);
  }
  write_generator(archive, "generator", generator_);
  write_int(archive, "updates_done", updates_done_);
  if (reward_normalizer_) {
    write_bytes(archive, "reward_stats", reward_normalizer_->save());
    const std::span<const double> returns = reward_normalizer_->returns();
    archive.write(
        "reward_returns",
        torch::tensor(torch::ArrayRef<double>(returns.data(), returns.size()), torch::kFloat64));
  }
}

void OnPolicyAgent::load(torch::serialize::InputArchive& archive) {
  check_network_signature(archive, net_->signature());
  read_module(archive, "net", *net_);
  if (flat_optimizer_) {
    // Module::load replaced the parameters' storage: back into the flat buffer.
    flat_optimizer_->rebind();
    torch::serialize::InputArchive state;
    if (!archive.try_read("flat_optimizer", state)) {
      throw std::runtime_error(
          "checkpoint entry 'flat_optimizer' is missing (saved with agent.backend torch? load "
          "it with --set agent.backend=torch)");
    }
    flat_optimizer_->load(state);
  } else {
    read_optimizer(archive, "optimizer", *optimizer_);
  }
  read_generator(archive, "generator", generator_);
  updates_done_ = read_int(archive, "updates_done");
  if (reward_normalizer_) {
    try {
      reward_normalizer_->load(read_bytes(archive, "reward_stats"));
      // Checkpoints written before the returns were saved restart them at zero.
      torch::Tensor returns;
      if (archive.try_read("reward_returns", returns)) {
        returns = returns.to(torch::kFloat64).contiguous();
        reward_normalizer_->set_returns(std::span<const double>(
            returns.data_ptr<double>(), static_cast<size_t>(returns.numel())));
      }
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("checkpoint entry 'reward_stats': ") + e.what());
    }
  }
  rollout_.clear();
  if (recurrent_) recurrent_->restart();
  pending_ = false;
}

}  // namespace rl
