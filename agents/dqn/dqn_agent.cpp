#include "agents/dqn/dqn_agent.h"

#include <torch/nn/functional/loss.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "agents/archive_util.h"

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
  const Space& obs = context.observation_space;
  if (obs.is_discrete()) {
    throw std::invalid_argument("dqn needs Box observations, got " + obs.describe());
  }
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

double auto_observation_scale(const DqnSettings& s, const Space& obs) {
  if (s.observation_scale > 0) return s.observation_scale;
  if (obs.dtype != DType::kU8 || obs.high.empty()) return 1.0;
  const float high = *std::max_element(obs.high.begin(), obs.high.end());
  return high > 1.f ? 1.0 / high : 1.0;
}

void copy_parameters(torch::nn::Module& from, torch::nn::Module& to, double tau) {
  torch::NoGradGuard no_grad;
  const auto source = from.parameters();
  auto target = to.parameters();
  for (size_t i = 0; i < source.size(); ++i) {
    if (tau >= 1.0) {
      target[i].copy_(source[i]);
    } else {
      target[i].mul_(1.0 - tau).add_(source[i], tau);
    }
  }
}

// Shapes of all parameters, to detect a checkpoint of a different network after loading.
std::vector<std::vector<int64_t>> parameter_shapes(torch::nn::Module& module) {
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& p : module.parameters()) shapes.push_back(p.sizes().vec());
  return shapes;
}

}  // namespace

DqnAgent::DqnAgent(const DqnSettings& settings, const AgentContext& context)
    : settings_(settings),
      context_(context),
      replay_(context.observation_space, context.action_space, replay_options(settings, context)),
      rng_(context.seed ^ 0x64716e5f6167656eULL) {
  if (!context.action_space.is_discrete()) {
    throw std::invalid_argument("dqn needs a Discrete action space, got " +
                                context.action_space.describe());
  }
  num_actions_ = context.action_space.n;
  observation_bytes_ = context.observation_space.bytes();
  observation_scale_ = auto_observation_scale(settings, context.observation_space);
  torch::manual_seed(context.seed);
  const QNetworkOptions net = network_options(settings, context);
  online_ = QNetwork(net);
  target_ = QNetwork(net);
  fast_enabled_ = online_->is_mlp();
  if (context.observation_space.dtype == DType::kU8 && FastCnn::supports(*online_)) {
    fast_cnn_ = std::make_unique<FastCnn>(*online_, static_cast<float>(observation_scale_));
  }
  if (settings.learner_threads > 1) {
    if (!fast_cnn_) {
      throw std::invalid_argument(
          "dqn: learner_threads: 2 needs a non-dueling CNN Q-network on u8 observations");
    }
    target_cnn_ = std::make_unique<FastCnn>(*online_, static_cast<float>(observation_scale_));
    learner_pool_ = std::make_unique<ThreadPool>(2);
  }
  copy_parameters(*online_, *target_, 1.0);
  for (auto& p : target_->parameters()) p.set_requires_grad(false);
  FlatOptimizerOptions optimizer;
  optimizer.kind = settings.optimizer == "adam" ? FlatOptimizerOptions::Kind::kAdam
                                                : FlatOptimizerOptions::Kind::kCenteredRmsprop;
  optimizer.lr = settings.lr;
  optimizer.adam_eps = settings.adam_eps;
  optimizer.rmsprop_alpha = settings.rmsprop_alpha;
  optimizer.rmsprop_eps = settings.rmsprop_eps;
  optimizer.rmsprop_momentum = settings.rmsprop_momentum;
  optimizer_ = std::make_unique<FlatOptimizer>(*online_, optimizer);
  next_train_step_ = settings.train_frequency;
  next_target_step_ = settings.target_update_period;
}

torch::Tensor DqnAgent::to_input(const uint8_t* data, int batch) const {
  std::vector<int64_t> shape = {batch};
  const auto& obs_shape = context_.observation_space.shape;
  shape.insert(shape.end(), obs_shape.begin(), obs_shape.end());
  void* raw = const_cast<uint8_t*>(data);  // from_blob wants non-const; never written.
  torch::Tensor input;
  if (context_.observation_space.dtype == DType::kU8) {
    input = torch::from_blob(raw, shape, torch::kUInt8).to(torch::kFloat32);
  } else {
    input = torch::from_blob(raw, shape, torch::kFloat32);
  }
  if (observation_scale_ != 1.0) input = input * observation_scale_;
  return input;
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

const float* DqnAgent::compute_q(std::span<const uint8_t> observations, int batch) {
  if (observations.size() != observation_bytes_ * static_cast<size_t>(batch)) {
    throw std::invalid_argument("dqn: expected " + std::to_string(batch) + " observations of " +
                                std::to_string(observation_bytes_) + " bytes");
  }
  q_buffer_.resize(static_cast<size_t>(batch * num_actions_));
  // Beyond a few rows a batched matrix product beats row-by-row loops.
  constexpr int kFastBatchLimit = 16;
  if (fast_enabled_ && batch <= kFastBatchLimit) {
    if (fast_stale_) {
      fast_.refresh(*online_);
      fast_stale_ = false;
    }
    const int64_t numel = context_.observation_space.numel();
    const float* input = reinterpret_cast<const float*>(observations.data());
    if (context_.observation_space.dtype == DType::kU8 || observation_scale_ != 1.0) {
      input_buffer_.resize(static_cast<size_t>(batch * numel));
      const float scale = static_cast<float>(observation_scale_);
      for (int64_t i = 0; i < batch * numel; ++i) {
        const float raw = context_.observation_space.dtype == DType::kU8
                              ? static_cast<float>(observations[i])
                              : input[i];
        input_buffer_[i] = raw * scale;
      }
      input = input_buffer_.data();
    }
    fast_.forward(input, batch, q_buffer_.data());
    return q_buffer_.data();
  }
  network_q(*online_, observations.data(), batch, q_buffer_.data(), fast_cnn_.get());
  return q_buffer_.data();
}

std::vector<float> DqnAgent::q_values(std::span<const uint8_t> observations, int batch) {
  const float* q = compute_q(observations, batch);
  return std::vector<float>(q, q + batch * num_actions_);
}

void DqnAgent::act(std::span<const uint8_t> observations, int batch, ActMode mode,
                   ActionBatch out) {
  if (out.discrete.size() != static_cast<size_t>(batch)) {
    throw std::invalid_argument("dqn: the action output needs one slot per observation");
  }
  const std::span<const uint8_t> masks = out.legal_actions;
  if (!masks.empty()) check_masks(masks, batch);
  const auto legal_row = [&](int i) {
    return masks.data() + static_cast<size_t>(i) * num_actions_;
  };
  const double eps = mode == ActMode::kExplore ? epsilon(env_steps_) : settings_.eval_epsilon;
  explore_rows_.assign(batch, 0);
  bool any_greedy = false;
  for (int i = 0; i < batch; ++i) {
    if (eps > 0 && rng_.uniform() < eps) {
      explore_rows_[i] = 1;
      if (masks.empty()) {
        out.discrete[i] = static_cast<int64_t>(rng_.below(static_cast<uint64_t>(num_actions_)));
      } else {
        // Uniform over the legal actions: the k-th legal one for a uniform k.
        const uint8_t* legal = legal_row(i);
        const int64_t count =
            std::count_if(legal, legal + num_actions_, [](uint8_t m) { return m; });
        int64_t k = static_cast<int64_t>(rng_.below(static_cast<uint64_t>(count)));
        int64_t a = 0;
        for (;; ++a) {
          if (legal[a] && k-- == 0) break;
        }
        out.discrete[i] = a;
      }
    } else {
      any_greedy = true;
    }
  }
  if (!any_greedy) return;  // Pure exploration needs no forward pass.
  const float* q = compute_q(observations, batch);
  for (int i = 0; i < batch; ++i) {
    if (explore_rows_[i]) continue;
    const float* row = q + static_cast<size_t>(i) * num_actions_;
    if (masks.empty()) {
      out.discrete[i] = std::max_element(row, row + num_actions_) - row;
    } else {
      const uint8_t* legal = legal_row(i);
      int64_t best = -1;
      for (int64_t a = 0; a < num_actions_; ++a) {
        if (legal[a] && (best < 0 || row[a] > row[best])) best = a;
      }
      out.discrete[i] = best;
    }
  }
}

void DqnAgent::check_masks(std::span<const uint8_t> masks, int batch) const {
  if (masks.size() != static_cast<size_t>(batch * num_actions_)) {
    throw std::invalid_argument("dqn: expected " + std::to_string(batch * num_actions_) +
                                " legal-action mask bytes (" + std::to_string(batch) + " rows of " +
                                std::to_string(num_actions_) + "), got " +
                                std::to_string(masks.size()));
  }
  for (int i = 0; i < batch; ++i) {
    const uint8_t* row = masks.data() + static_cast<size_t>(i) * num_actions_;
    if (std::none_of(row, row + num_actions_, [](uint8_t m) { return m != 0; })) {
      throw std::invalid_argument("dqn: row " + std::to_string(i) +
                                  " has no legal action in its mask");
    }
  }
}

ActionValues DqnAgent::action_values(std::span<const uint8_t> observation) {
  return {"q", q_values(observation, 1)};
}

void DqnAgent::observe(const TransitionBatch& t) {
  const size_t bytes = observation_bytes_;
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
  // Every stored mask has a legal action (the replay checks), so every row has a value.
  const uint8_t* masks = masks_seen_ ? batch_.next_legal_actions.data() : nullptr;
  targets_.resize(batch);
  const auto bootstrap = [&](FastCnn* cnn) {
    next_state_values(batch_.next_observations.data(), masks, batch, targets_.data(), cnn);
  };
  const auto prepare_online = [&] {
    if (fast_cnn_) fast_cnn_->prepare_gradient(*online_, batch_.observations.data(), batch);
  };
  if (learner_pool_) {
    // The target values on one core, the online forward pass on the other: independent inputs
    // and outputs, so the results do not depend on which finishes first.
    learner_pool_->parallel_for(
        2, [&](int task) { task == 0 ? prepare_online() : bootstrap(target_cnn_.get()); });
  } else {
    bootstrap(fast_cnn_.get());
    prepare_online();
  }
  for (int i = 0; i < batch; ++i) {
    targets_[i] = batch_.rewards[i] + batch_.discounts[i] * targets_[i];
  }
  const auto [loss, q_mean] = fast_cnn_ ? cnn_gradient(batch) : torch_gradient(batch);
  optimizer_->step(settings_.max_grad_norm);
  fast_stale_ = true;
  ++gradient_steps_done_;
  if (settings_.prioritized) replay_.update_priorities(batch_.indices, td_errors_);
  return {loss, q_mean};
}

std::pair<double, double> DqnAgent::cnn_gradient(int batch) {
  TdBatch td;
  td.size = batch;
  td.observations = batch_.observations.data();
  td.actions = batch_.discrete_actions.data();
  td.targets = targets_.data();
  td.weights = settings_.prioritized ? batch_.weights.data() : nullptr;
  td.huber = settings_.loss == "huber";
  td_errors_.resize(batch);
  const TdLoss loss = fast_cnn_->td_backward(*online_, td, td_errors_.data());
  return {loss.loss, loss.q_mean};
}

std::pair<double, double> DqnAgent::torch_gradient(int batch) {
  const torch::Tensor observations = to_input(batch_.observations.data(), batch);
  const torch::Tensor actions =
      torch::from_blob(batch_.discrete_actions.data(), {batch, 1}, torch::kInt64);
  const torch::Tensor td_target = torch::from_blob(targets_.data(), {batch});
  const torch::Tensor q = online_->forward(observations).gather(1, actions).squeeze(1);
  namespace F = torch::nn::functional;
  const torch::Tensor elementwise =
      settings_.loss == "huber"
          ? F::smooth_l1_loss(q, td_target, F::SmoothL1LossFuncOptions().reduction(torch::kNone))
          : (q - td_target).pow(2);
  torch::Tensor loss;
  if (settings_.prioritized) {
    const torch::Tensor weights = torch::from_blob(batch_.weights.data(), {batch});
    loss = (elementwise * weights).mean();
  } else {
    loss = elementwise.mean();
  }
  optimizer_->zero_grad();
  loss.backward();
  const torch::Tensor td_error = (q.detach() - td_target).abs().contiguous();
  td_errors_.assign(td_error.data_ptr<float>(), td_error.data_ptr<float>() + batch);
  return {loss.item<double>(), q.detach().mean().item<double>()};
}

void DqnAgent::network_q(QNetworkImpl& network, const uint8_t* observations, int batch, float* q,
                         FastCnn* cnn) {
  if (cnn) {
    cnn->forward(network, observations, batch, q);
    return;
  }
  torch::InferenceMode inference;
  const torch::Tensor values = network.forward(to_input(observations, batch)).contiguous();
  std::copy(values.data_ptr<float>(), values.data_ptr<float>() + values.numel(), q);
}

void DqnAgent::next_state_values(const uint8_t* next_observations, const uint8_t* legal, int batch,
                                 float* values, FastCnn* cnn) {
  const size_t n = static_cast<size_t>(num_actions_);
  next_target_q_.resize(batch * n);
  network_q(*target_, next_observations, batch, next_target_q_.data(), cnn);
  if (settings_.double_dqn) {
    next_online_q_.resize(batch * n);
    network_q(*online_, next_observations, batch, next_online_q_.data(), cnn);
  }
  // The action the value is taken at: the best legal one by the target network, or by the
  // online network with double DQN.
  const std::vector<float>& chooser = settings_.double_dqn ? next_online_q_ : next_target_q_;
  for (int i = 0; i < batch; ++i) {
    const float* scores = chooser.data() + i * n;
    const uint8_t* row_legal = legal ? legal + i * n : nullptr;
    size_t best = n;
    for (size_t a = 0; a < n; ++a) {
      if ((!row_legal || row_legal[a]) && (best == n || scores[a] > scores[best])) best = a;
    }
    values[i] = next_target_q_[i * n + best];
  }
}

std::vector<float> DqnAgent::bootstrap_values(std::span<const uint8_t> next_observations,
                                              std::span<const uint8_t> next_legal, int batch) {
  if (next_observations.size() != observation_bytes_ * static_cast<size_t>(batch)) {
    throw std::invalid_argument("dqn: expected " + std::to_string(batch) + " observations of " +
                                std::to_string(observation_bytes_) + " bytes");
  }
  if (!next_legal.empty()) check_masks(next_legal, batch);
  std::vector<float> values(batch);
  next_state_values(next_observations.data(), next_legal.empty() ? nullptr : next_legal.data(),
                    batch, values.data(), fast_cnn_.get());
  return values;
}

void DqnAgent::update_target() { copy_parameters(*online_, *target_, settings_.tau); }

std::string DqnAgent::describe() const {
  char memory[64];
  std::snprintf(memory, sizeof memory, "%.1f MB",
                static_cast<double>(replay_.memory_bytes()) / 1e6);
  std::string text = "dqn: " + online_->signature() + ", replay " +
                     std::to_string(replay_.capacity()) + " transitions (" + memory + ")";
  if (settings_.prioritized) text += ", prioritized";
  if (settings_.double_dqn) text += ", double";
  if (settings_.n_step > 1) text += ", " + std::to_string(settings_.n_step) + "-step";
  return text;
}

std::vector<std::string> DqnAgent::metric_names() const {
  return {"loss", "q_mean", "epsilon", "gradient_steps"};
}

void DqnAgent::save(torch::serialize::OutputArchive& archive) const {
  write_string(archive, "network", online_->signature());
  torch::serialize::OutputArchive online, target, optimizer;
  online_->save(online);
  target_->save(target);
  optimizer_->save(optimizer);
  archive.write("online", online);
  archive.write("target", target);
  archive.write("optimizer", optimizer);
  write_int(archive, "env_steps", env_steps_);
  write_int(archive, "gradient_steps", gradient_steps_done_);
  write_int(archive, "next_train_step", next_train_step_);
  write_int(archive, "next_target_step", next_target_step_);
  write_rng(archive, "rng", rng_);
}

void DqnAgent::load(torch::serialize::InputArchive& archive) {
  const std::string network = read_string(archive, "network");
  if (network != online_->signature()) {
    throw std::runtime_error("the checkpoint holds a different network (" + network +
                             ") than the config builds (" + online_->signature() + ")");
  }
  const auto expected_shapes = parameter_shapes(*online_);
  torch::serialize::InputArchive online, target, optimizer;
  archive.read("online", online);
  archive.read("target", target);
  archive.read("optimizer", optimizer);
  online_->load(online);
  target_->load(target);
  optimizer_->rebind();  // Module::load replaced the parameters' storage.
  if (parameter_shapes(*online_) != expected_shapes ||
      parameter_shapes(*target_) != expected_shapes) {
    throw std::runtime_error("the checkpoint's network weights have different shapes");
  }
  optimizer_->load(optimizer);
  fast_stale_ = true;
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
                [](ConfigSection& section, const AgentContext& context) {
                  const DqnSettings settings = read_dqn_settings(section);
                  section.finish();
                  try {
                    return std::unique_ptr<Agent>(std::make_unique<DqnAgent>(settings, context));
                  } catch (const std::invalid_argument& e) {
                    section.fail("", e.what());
                  }
                }});
}

}  // namespace rl
