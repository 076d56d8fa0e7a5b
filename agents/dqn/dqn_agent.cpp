#include "agents/dqn/dqn_agent.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "agents/archive_util.h"
#include "agents/common/action_masks.h"
#include "agents/common/agent_factory.h"
#include "agents/common/agent_util.h"
#include "agents/distributed/data_parallel.h"

namespace rl {

namespace {

ReplayOptions replay_options(const DqnSettings& s, const AgentContext& context) {
  ReplayOptions o;
  o.capacity = s.buffer_size;
  o.num_envs = context.num_envs;
  o.n_step = static_cast<int>(s.n_step);
  o.gamma = s.gamma;
  o.prioritized = s.prioritized;
  o.alpha = s.priority_alpha;
  o.priority_eps = s.priority_eps;
  // A few bytes per transition: the next observation's legal actions, for masked targets.
  o.legal_masks = context.action_space.is_discrete();
  // Binary image observations (MinAtar) take an eighth of the memory as bits.
  const Space& obs = context.observation_space;
  o.bit_pack = obs.dtype == DType::kU8 && !obs.high.empty() &&
               *std::max_element(obs.high.begin(), obs.high.end()) <= 1.f &&
               *std::min_element(obs.low.begin(), obs.low.end()) >= 0.f;
  return o;
}

QNetworkOptions network_options(const DqnSettings& s, const AgentContext& context) {
  const Space& obs = context.observation_space;  // A Box: ObservationInput checked.
  QNetworkOptions o;
  o.observation_shape = obs.shape;
  o.num_actions = context.action_space.n;
  o.cnn = s.torso == "cnn" || (s.torso == "auto" && obs.shape.size() == 3);
  o.hidden = s.hidden;
  o.cnn_channels = s.cnn_channels;
  o.cnn_hidden = s.cnn_hidden;
  o.dueling = s.dueling;
  return o;
}

}  // namespace

DqnAgent::DqnAgent(const DqnSettings& settings, const AgentContext& context)
    : settings_(settings),
      context_(context),
      replay_(context.observation_space, context.action_space, replay_options(settings, context)),
      input_(context.observation_space, settings.observation_scale),
      rng_(context.seed ^ 0x64716e5f6167656eULL) {
  if (!context.action_space.is_discrete()) {
    throw std::invalid_argument("dqn needs a Discrete action space, got " +
                                context.action_space.describe());
  }
  num_actions_ = context.action_space.n;
  torch::manual_seed(context.seed);
  const QNetworkOptions net = network_options(settings, context);
  online_ = QNetwork(net);
  target_ = QNetwork(net);
  const bool use_engine = settings.backend == "auto";
  compute_ = make_q_compute(*online_, context.observation_space, input_, use_engine);
  if (settings.learner_threads > 1) {
    if (!compute_->runs_beside_another()) {
      throw std::invalid_argument(
          "dqn: learner_threads: 2 needs the engine backend (agent.backend: auto with an MLP, or "
          "a non-dueling CNN on u8 observations)");
    }
    target_compute_ = make_q_compute(*online_, context.observation_space, input_, use_engine);
    learner_pool_ = std::make_unique<ThreadPool>(2);
  }
  polyak_update(*online_, *target_, 1.0);
  for (auto& p : target_->parameters()) p.set_requires_grad(false);
  FlatOptimizerOptions optimizer;
  optimizer.kind = settings.optimizer.kind == "adam" ? FlatOptimizerOptions::Kind::kAdam
                                                     : FlatOptimizerOptions::Kind::kCenteredRmsprop;
  optimizer.lr = settings.optimizer.lr;
  optimizer.adam_eps = settings.optimizer.adam_eps;
  optimizer.rmsprop_alpha = settings.optimizer.rmsprop_alpha;
  optimizer.rmsprop_eps = settings.optimizer.rmsprop_eps;
  optimizer.rmsprop_momentum = settings.rmsprop_momentum;
  optimizer_ = std::make_unique<FlatOptimizer>(*online_, optimizer);
  target_averager_ = std::make_unique<nn::PolyakAverager>(*online_, *target_);
  next_train_step_ = settings.train_frequency;
  next_target_step_ = settings.target_update_period;
}

double DqnAgent::epsilon(int64_t env_steps) const {
  const double decay_steps =
      settings_.exploration_steps > 0
          ? static_cast<double>(settings_.exploration_steps)
          : settings_.exploration_fraction * static_cast<double>(context_.total_steps);
  const int64_t start =
      settings_.epsilon_decay_start == "learning_starts" ? settings_.learning_starts : 0;
  if (env_steps < start) return settings_.epsilon_start;
  if (decay_steps <= 0) return settings_.epsilon_end;
  const double progress = std::min(1.0, static_cast<double>(env_steps - start) / decay_steps);
  return settings_.epsilon_start + (settings_.epsilon_end - settings_.epsilon_start) * progress;
}

void DqnAgent::check_observations(std::span<const uint8_t> observations, int batch) const {
  if (observations.size() != input_.bytes() * static_cast<size_t>(batch)) {
    throw std::invalid_argument("dqn: expected " + std::to_string(batch) + " observations of " +
                                std::to_string(input_.bytes()) + " bytes");
  }
}

const float* DqnAgent::acting_q(std::span<const uint8_t> observations, int batch) {
  check_observations(observations, batch);
  q_buffer_.resize(static_cast<size_t>(batch * num_actions_));
  compute_->q_values(*online_, observations.data(), batch, q_buffer_.data());
  return q_buffer_.data();
}

std::vector<float> DqnAgent::q_values(std::span<const uint8_t> observations, int batch) {
  const float* q = acting_q(observations, batch);
  return std::vector<float>(q, q + batch * num_actions_);
}

void DqnAgent::act(std::span<const uint8_t> observations, int batch, ActMode mode,
                   ActionBatch out) {
  if (out.discrete.size() != static_cast<size_t>(batch)) {
    throw std::invalid_argument("dqn: the action output needs one slot per observation");
  }
  const std::span<const uint8_t> masks = out.legal_actions;
  if (!masks.empty()) check_action_masks(masks, batch, num_actions_, "dqn");
  const auto legal_row = [&](int i) {
    return masks.empty() ? nullptr : masks.data() + static_cast<size_t>(i) * num_actions_;
  };
  const double eps = mode == ActMode::kExplore ? epsilon(env_steps_) : settings_.eval_epsilon;
  explore_rows_.assign(batch, 0);
  bool any_greedy = false;
  for (int i = 0; i < batch; ++i) {
    if (eps > 0 && rng_.uniform() < eps) {
      explore_rows_[i] = 1;
      out.discrete[i] = masks.empty()
                            ? static_cast<int64_t>(rng_.below(static_cast<uint64_t>(num_actions_)))
                            : uniform_legal_action(rng_, legal_row(i), num_actions_);
    } else {
      any_greedy = true;
    }
  }
  if (!any_greedy) return;  // Pure exploration needs no forward pass.
  const float* q = acting_q(observations, batch);
  for (int i = 0; i < batch; ++i) {
    if (explore_rows_[i]) continue;
    out.discrete[i] =
        greedy_action(q + static_cast<size_t>(i) * num_actions_, legal_row(i), num_actions_);
  }
}

ActionValues DqnAgent::action_values(std::span<const uint8_t> observation) {
  return {"q", q_values(observation, 1)};
}

void DqnAgent::observe(const TransitionBatch& t) {
  const size_t bytes = input_.bytes();
  const size_t n = static_cast<size_t>(num_actions_);
  const bool masked = !t.next_legal_actions.empty();
  if (masked && t.next_legal_actions.size() != n * static_cast<size_t>(t.batch)) {
    throw std::invalid_argument("dqn: expected " + std::to_string(n * t.batch) +
                                " next legal-action mask bytes, got " +
                                std::to_string(t.next_legal_actions.size()));
  }
  masks_seen_ = masks_seen_ || masked;
  for (int i = 0; i < t.batch; ++i) {
    replay_.add(i, t.observations.subspan(i * bytes, bytes), t.discrete_actions[i], {},
                t.rewards[i], t.next_observations.subspan(i * bytes, bytes), t.terminated[i] != 0,
                t.truncated[i] != 0,
                masked ? t.next_legal_actions.subspan(i * n, n) : std::span<const uint8_t>());
  }
}

bool DqnAgent::ready_to_learn() const {
  // After a resume the buffer starts empty: refill it as at the start before learning.
  const int64_t warmup =
      std::max<int64_t>(1, std::min(settings_.learning_starts, settings_.buffer_size));
  return env_steps_ >= settings_.learning_starts && replay_.size() >= warmup;
}

std::map<std::string, double> DqnAgent::update(int64_t env_steps) {
  env_steps_ = env_steps;
  std::map<std::string, double> metrics;
  if (env_steps_ >= next_target_step_) {
    if (ready_to_learn()) update_target();
    while (next_target_step_ <= env_steps_) next_target_step_ += settings_.target_update_period;
  }
  int64_t due = 0;
  while (next_train_step_ <= env_steps_) {
    next_train_step_ += settings_.train_frequency;
    ++due;
  }
  if (due == 0 || !ready_to_learn()) return metrics;
  const double beta =
      settings_.priority_beta +
      (1.0 - settings_.priority_beta) *
          std::min(1.0, static_cast<double>(env_steps_) /
                            std::max<double>(1.0, static_cast<double>(context_.total_steps)));
  double loss_sum = 0, q_sum = 0;
  const int64_t steps = due * settings_.gradient_steps;
  for (int64_t i = 0; i < steps; ++i) {
    const auto [loss, q_mean] = learn_step(beta);
    loss_sum += loss;
    q_sum += q_mean;
  }
  metrics["loss"] = loss_sum / static_cast<double>(steps);
  metrics["q_mean"] = q_sum / static_cast<double>(steps);
  metrics["epsilon"] = epsilon(env_steps_);
  metrics["gradient_steps"] = static_cast<double>(gradient_steps_done_);
  return metrics;
}

std::pair<double, double> DqnAgent::learn_step(double beta) {
  const int batch = static_cast<int>(settings_.batch_size);
  replay_.sample(batch, rng_, batch_, beta);
  const auto forward_online = [&] {
    compute_->forward_for_gradient(*online_, batch_.observations.data(), batch);
  };
  if (learner_pool_) {
    // The targets on one core, the online forward pass on the other: independent inputs and
    // outputs, so the results do not depend on which finishes first.
    learner_pool_->parallel_for(2, [&](int task) {
      task == 0 ? forward_online() : compute_td_targets(*target_compute_, batch);
    });
  } else {
    compute_td_targets(*compute_, batch);
    forward_online();
  }
  TdBatch td;
  td.size = batch;
  td.observations = batch_.observations.data();
  td.actions = batch_.discrete_actions.data();
  td.targets = targets_.data();
  td.weights = settings_.prioritized ? batch_.weights.data() : nullptr;
  td.huber = settings_.loss == "huber";
  td_errors_.resize(batch);
  const TdLoss loss = compute_->td_gradient(*online_, td, td_errors_.data());
  optimizer_->step(settings_.max_grad_norm);
  ++gradient_steps_done_;
  if (settings_.prioritized) replay_.update_priorities(batch_.indices, td_errors_);
  return {loss.loss, loss.q_mean};
}

void DqnAgent::compute_td_targets(QCompute& compute, int batch) {
  next_state_q(compute, batch_.next_observations.data(), batch);
  // Every stored mask has a legal action (the replay checks), so every row has a value.
  const uint8_t* masks = masks_seen_ ? batch_.next_legal_actions.data() : nullptr;
  targets_.resize(batch);
  td_targets(batch_.rewards.data(), batch_.discounts.data(), next_target_q_.data(),
             settings_.double_dqn ? next_online_q_.data() : nullptr, masks, batch, num_actions_,
             targets_.data());
}

void DqnAgent::next_state_q(QCompute& compute, const uint8_t* next_observations, int batch) {
  next_target_q_.resize(static_cast<size_t>(batch * num_actions_));
  compute.q_values(*target_, next_observations, batch, next_target_q_.data());
  if (settings_.double_dqn) {
    next_online_q_.resize(next_target_q_.size());
    compute.q_values(*online_, next_observations, batch, next_online_q_.data());
  }
}

std::vector<float> DqnAgent::bootstrap_values(std::span<const uint8_t> next_observations,
                                              std::span<const uint8_t> next_legal, int batch) {
  check_observations(next_observations, batch);
  if (!next_legal.empty()) check_action_masks(next_legal, batch, num_actions_, "dqn");
  next_state_q(*compute_, next_observations.data(), batch);
  std::vector<float> values(batch);
  next_state_values(next_target_q_.data(), settings_.double_dqn ? next_online_q_.data() : nullptr,
                    next_legal.empty() ? nullptr : next_legal.data(), batch, num_actions_,
                    values.data());
  return values;
}

void DqnAgent::set_collectives(distributed::Collectives* collectives) {
  optimizer_->average_gradients_over(collectives);
  if (!collectives) return;
  distributed::copy_from_rank0(*collectives, {online_.get(), target_.get()});
  if (collectives->rank() == 0) return;  // Keeps its stream (restored by a resume).
  rng_.seed_with(
      distributed::rank_seed(context_.seed ^ 0x64716e5f6167656eULL, collectives->rank()));
}

void DqnAgent::update_target() { target_averager_->update(settings_.tau); }

std::string DqnAgent::describe() const {
  char memory[64];
  std::snprintf(memory, sizeof memory, "%.1f MB",
                static_cast<double>(replay_.memory_bytes()) / 1e6);
  std::string text = "dqn: " + online_->signature() + ", replay " +
                     std::to_string(replay_.capacity()) + " transitions (" + memory + ")";
  text += ", " + compute_->backend() + " backend";
  if (settings_.prioritized) text += ", prioritized";
  if (settings_.double_dqn) text += ", double";
  if (settings_.n_step > 1) text += ", " + std::to_string(settings_.n_step) + "-step";
  return text;
}

std::vector<std::string> DqnAgent::metric_names() const {
  return {"loss", "q_mean", "epsilon", "gradient_steps"};
}

void DqnAgent::save(torch::serialize::OutputArchive& archive) const {
  write_network_signature(archive, online_->signature());
  write_module(archive, "online", *online_);
  write_module(archive, "target", *target_);
  torch::serialize::OutputArchive optimizer;
  optimizer_->save(optimizer);
  archive.write("optimizer", optimizer);
  write_int(archive, "env_steps", env_steps_);
  write_int(archive, "gradient_steps", gradient_steps_done_);
  write_int(archive, "next_train_step", next_train_step_);
  write_int(archive, "next_target_step", next_target_step_);
  write_rng(archive, "rng", rng_);
}

void DqnAgent::load(torch::serialize::InputArchive& archive) {
  check_network_signature(archive, online_->signature());
  read_module(archive, "online", *online_);
  read_module(archive, "target", *target_);
  optimizer_->rebind();  // Module::load replaced the parameters' storage.
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  optimizer_->load(optimizer);
  env_steps_ = read_int(archive, "env_steps");
  gradient_steps_done_ = read_int(archive, "gradient_steps");
  next_train_step_ = read_int(archive, "next_train_step");
  next_target_step_ = read_int(archive, "next_target_step");
  read_rng(archive, "rng", rng_);
}

void register_dqn_agent(AgentRegistry& registry) {
  registry.add({"dqn",
                "Deep Q-network: double, dueling, n-step, prioritized replay (discrete actions)",
                /*discrete_actions=*/true, /*continuous_actions=*/false,
                agent_factory<DqnAgent>(read_dqn_settings)});
}

}  // namespace rl
