#include "agents/sac/sac_agent.h"

#include <torch/autograd.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "agents/archive_util.h"
#include "agents/common/action_masks.h"
#include "agents/common/agent_factory.h"
#include "agents/common/agent_util.h"
#include "agents/common/distributions.h"
#include "agents/distributed/data_parallel.h"
#include "agents/sac/sac_losses.h"

namespace rl {

namespace {

// Adds the seconds from construction to destruction to `sink`.
class Stopwatch {
 public:
  explicit Stopwatch(double& sink) : sink_(sink), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() {
    sink_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double& sink_;
  std::chrono::steady_clock::time_point start_;
};

SacNetworkOptions network_options(const SacSettings& s, const AgentContext& context) {
  SacNetworkOptions o;
  o.observation_shape = context.observation_space.shape;
  o.discrete = context.action_space.is_discrete();
  o.action_dim = o.discrete ? context.action_space.n : context.action_space.numel();
  o.torso = s.torso;
  o.log_std_min = s.log_std_min;
  o.log_std_max = s.log_std_max;
  return o;
}

ReplayOptions replay_options(const SacSettings& s, const AgentContext& context) {
  ReplayOptions o;
  o.capacity = s.buffer_size;
  o.num_envs = context.num_envs;
  o.n_step = static_cast<int>(s.n_step);
  o.gamma = s.gamma;
  return o;
}

FlatOptimizerOptions adam(double lr, double eps) {
  FlatOptimizerOptions options;
  options.lr = lr;
  options.adam_eps = eps;
  return options;
}

// A float tensor viewing `values` (no copy).
torch::Tensor view_of(std::vector<float>& values, int64_t rows) {
  return torch::from_blob(values.data(), {rows});
}

void write_optimizer_state(torch::serialize::OutputArchive& archive, const std::string& key,
                           const FlatOptimizer& optimizer) {
  torch::serialize::OutputArchive state;
  optimizer.save(state);
  archive.write(key, state);
}

void read_optimizer_state(torch::serialize::InputArchive& archive, const std::string& key,
                          FlatOptimizer& optimizer) {
  torch::serialize::InputArchive state;
  if (!archive.try_read(key, state)) {
    throw std::runtime_error("checkpoint entry '" + key + "' is missing");
  }
  torch::Tensor probe;
  if (!state.keys().empty() && !state.try_read("first", probe)) {
    // Checkpoints from before the flat optimizer hold torch::optim::Adam state: the weights
    // load, the optimizer's moments start over.
    std::fprintf(stderr,
                 "sac: checkpoint entry '%s' holds LibTorch Adam state from an older version; "
                 "its moments restart\n",
                 key.c_str());
    return;
  }
  try {
    optimizer.load(state);
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint entry '" + key + "': " + e.what());
  }
}

}  // namespace

SacSettings read_sac_settings(ConfigSection& s) {
  SacSettings d;
  d.torso = read_torso_options(s, d.torso, "Box actions need mlp");
  d.log_std_min = s.get_float("log_std_min", d.log_std_min, "Lowest actor log-std", -20.0, 0.0);
  d.log_std_max = s.get_float("log_std_max", d.log_std_max, "Highest actor log-std", -5.0, 5.0);
  if (d.log_std_max <= d.log_std_min) {
    s.fail("log_std_max",
           "must be greater than log_std_min (" + std::to_string(d.log_std_min) + ")");
  }
  d.gamma = s.get_float("gamma", d.gamma, "Discount factor", 0.0, 1.0);
  d.tau = s.get_float("tau", d.tau, "Target Polyak weight (1 = hard copy)", 1e-6, 1.0);
  d.batch_size = s.get_int("batch_size", d.batch_size, "Transitions per gradient step", 1, 65536);
  d.buffer_size =
      s.get_int("buffer_size", d.buffer_size, "Replay capacity (transitions)", 1, kMaxStepSetting);
  d.learning_starts =
      s.get_int("learning_starts", d.learning_starts,
                "Env steps of uniformly random actions before learning", 0, kMaxStepSetting);
  d.train_frequency = s.get_int("train_frequency", d.train_frequency,
                                "Env steps (summed over envs) between updates", 1, kMaxStepSetting);
  d.gradient_steps =
      s.get_int("gradient_steps", d.gradient_steps, "Critic gradient steps per update", 1, 1000);
  d.policy_frequency = s.get_int("policy_frequency", d.policy_frequency,
                                 "Critic steps per round of policy updates (that many policy "
                                 "steps each round)",
                                 1, 1000);
  d.target_frequency = s.get_int("target_frequency", d.target_frequency,
                                 "Critic steps between target-network updates", 1, kMaxStepSetting);
  d.n_step = s.get_int("n_step", d.n_step, "n-step returns (1 = one-step TD)", 1, 100);
  d.policy_lr = s.get_float("policy_lr", d.policy_lr, "Actor learning rate", 1e-12, 10.0);
  d.q_lr = s.get_float("q_lr", d.q_lr, "Critic (and entropy) learning rate", 1e-12, 10.0);
  d.adam_eps = s.get_float("adam_eps", d.adam_eps, "Adam epsilon", 1e-12, 1.0);
  d.alpha =
      s.get_float("alpha", d.alpha, "Entropy coefficient (initial value if autotuned)", 1e-12, 1e6);
  d.autotune = s.get_bool("autotune", d.autotune, "Tune alpha towards the target entropy");
  d.target_entropy_scale =
      s.get_float("target_entropy_scale", d.target_entropy_scale,
                  "Target entropy: -scale * action_dim (Box), scale * log(actions) "
                  "(Discrete); 0 = auto (1 for Box, 0.89 for Discrete)",
                  0.0, 100.0);
  d.observation_scale = s.get_float("observation_scale", d.observation_scale,
                                    "Observation multiplier; 0 = auto (1/255 for u8 images with "
                                    "values up to 255, else 1)",
                                    0.0, 1e6);
  d.backend = s.get_choice("backend", d.backend,
                           "Network compute: auto (the small-network engine where it applies: "
                           "Box actions with MLP torsos) or torch (always LibTorch)",
                           {"auto", "torch"});
  d.learner_threads = s.get_int("learner_threads", d.learner_threads,
                                "2 runs the twin critics one per core (engine backend only; "
                                "identical results); keep train.threads at 1",
                                1, 2);
  return d;
}

SacAgent::SacAgent(const SacSettings& settings, const AgentContext& context)
    : settings_(settings),
      context_(context),
      input_(context.observation_space, settings.observation_scale),
      replay_(context.observation_space, context.action_space, replay_options(settings, context)),
      rng_(context.seed ^ 0x7361635f72616e64ULL),
      generator_(make_generator(context.seed ^ 0x7361635f67656e65ULL)) {
  discrete_ = context.action_space.is_discrete();
  action_dim_ = discrete_ ? context.action_space.n : context.action_space.numel();
  if (!discrete_) {
    const Space& a = context.action_space;
    for (int64_t i = 0; i < action_dim_; ++i) {
      if (!std::isfinite(a.low[i]) || !std::isfinite(a.high[i]) || a.high[i] <= a.low[i]) {
        throw std::invalid_argument("sac needs finite action bounds, got " + a.describe());
      }
      center_.push_back(0.5f * (a.high[i] + a.low[i]));
      scale_.push_back(0.5f * (a.high[i] - a.low[i]));
    }
    action_center_ = torch::tensor(center_);
    action_scale_ = torch::tensor(scale_);
  }
  torch::manual_seed(context.seed);
  const SacNetworkOptions net = network_options(settings, context);
  actor_ = SacActor(net);
  q1_ = SacCritic(net);
  q2_ = SacCritic(net);
  q1_target_ = SacCritic(net);
  q2_target_ = SacCritic(net);
  for (auto* target : {&q1_target_, &q2_target_}) {
    for (auto& p : (*target)->parameters()) p.set_requires_grad(false);
  }
  q1_averager_ = std::make_unique<nn::PolyakAverager>(*q1_, *q1_target_);
  q2_averager_ = std::make_unique<nn::PolyakAverager>(*q2_, *q2_target_);
  q1_averager_->update(1.0);
  q2_averager_->update(1.0);
  critics_ = std::make_shared<torch::nn::Module>();
  critics_->register_module("q1", q1_);
  critics_->register_module("q2", q2_);
  alpha_parameter_ = std::make_shared<torch::nn::Module>();
  log_alpha_ =
      alpha_parameter_->register_parameter("log_alpha", torch::full({1}, std::log(settings.alpha)));
  actor_optimizer_ =
      std::make_unique<FlatOptimizer>(*actor_, adam(settings.policy_lr, settings.adam_eps));
  q_optimizer_ = std::make_unique<FlatOptimizer>(*critics_, adam(settings.q_lr, settings.adam_eps));
  alpha_optimizer_ =
      std::make_unique<FlatOptimizer>(*alpha_parameter_, adam(settings.q_lr, settings.adam_eps));
  alpha_ = settings.alpha;
  const SacEngine::Networks networks{*actor_, *q1_, *q2_, *q1_target_, *q2_target_};
  if (settings.backend == "auto" && SacEngine::applies(networks)) {
    engine_ = std::make_unique<SacEngine>(
        networks, static_cast<int>(context.observation_space.numel()),
        static_cast<int>(action_dim_), settings.log_std_min, settings.log_std_max);
  }
  if (settings.learner_threads > 1) {
    if (!engine_) {
      throw std::invalid_argument(
          "sac: learner_threads: 2 needs the engine backend (agent.backend: auto, Box actions "
          "and MLP torsos)");
    }
    engine_->set_threads(static_cast<int>(settings.learner_threads));
  }
  double scale = settings.target_entropy_scale;
  if (scale <= 0) scale = discrete_ ? 0.89 : 1.0;
  target_entropy_ = discrete_ ? scale * std::log(static_cast<double>(action_dim_))
                              : -scale * static_cast<double>(action_dim_);
  next_train_step_ = settings.train_frequency;
}

std::string SacAgent::describe() const {
  char memory[64];
  std::snprintf(memory, sizeof memory, "%.1f MB",
                static_cast<double>(replay_.memory_bytes()) / 1e6);
  return std::string("sac") + (discrete_ ? " (discrete)" : "") + ": " + actor_->signature() +
         ", 2x " + q1_->signature() + ", replay " + std::to_string(replay_.capacity()) +
         " transitions (" + memory + ")" + (settings_.autotune ? ", autotuned alpha" : "") +
         (engine_ ? ", engine backend (BLAS MLPs)" : ", torch backend");
}

torch::Tensor SacAgent::to_unit(const torch::Tensor& env_actions) const {
  return (env_actions - action_center_) / action_scale_;
}

void SacAgent::random_actions(int batch, ActionBatch out) {
  if (discrete_) {
    for (int i = 0; i < batch; ++i) {
      out.discrete[i] =
          out.legal_actions.empty()
              ? static_cast<int64_t>(rng_.below(static_cast<uint64_t>(action_dim_)))
              : uniform_legal_action(rng_, out.legal_actions.data() + i * action_dim_, action_dim_);
    }
    return;
  }
  for (size_t i = 0; i < out.continuous.size(); ++i) {
    const size_t d = i % static_cast<size_t>(action_dim_);
    out.continuous[i] = static_cast<float>(center_[d] + scale_[d] * rng_.uniform(-1.0, 1.0));
  }
}

void SacAgent::act(std::span<const uint8_t> observations, int batch, ActMode mode,
                   ActionBatch out) {
  if (observations.size() != input_.bytes() * static_cast<size_t>(batch)) {
    throw std::invalid_argument("sac: expected " + std::to_string(batch) + " observations of " +
                                std::to_string(input_.bytes()) + " bytes");
  }
  const size_t slots = static_cast<size_t>(batch) * (discrete_ ? 1 : action_dim_);
  if ((discrete_ ? out.discrete.size() : out.continuous.size()) != slots) {
    throw std::invalid_argument("sac: the action output needs " + std::to_string(slots) + " slots");
  }
  if (discrete_ && !out.legal_actions.empty()) {
    check_action_masks(out.legal_actions, batch, action_dim_, "sac");
  }
  const bool explore = mode == ActMode::kExplore;
  if (explore && env_steps_ < settings_.learning_starts) return random_actions(batch, out);
  Stopwatch watch(timings_.act);
  if (engine_) {
    const float* obs = input_.floats(observations.data(), batch, observation_floats_);
    const float* noise = explore ? normal_noise(act_noise_, batch) : nullptr;
    engine_->act(obs, batch, noise, out.continuous.data());
    for (size_t i = 0; i < slots; ++i) {
      const size_t d = i % static_cast<size_t>(action_dim_);
      out.continuous[i] = center_[d] + scale_[d] * out.continuous[i];
    }
    return;
  }
  torch::InferenceMode inference;
  const torch::Tensor obs = input_(observations.data(), batch);
  if (discrete_) {
    torch::Tensor legal;
    if (!out.legal_actions.empty()) {
      legal = torch::from_blob(const_cast<uint8_t*>(out.legal_actions.data()), {batch, action_dim_},
                               torch::kUInt8)
                  .to(torch::kBool);
    }
    const Categorical dist(actor_->logits(obs), legal);
    const torch::Tensor actions = (explore ? dist.sample(generator_) : dist.mode()).contiguous();
    std::memcpy(out.discrete.data(), actions.data_ptr<int64_t>(), sizeof(int64_t) * batch);
    return;
  }
  const auto [mean, log_std] = actor_->gaussian(obs);
  const TanhGaussian dist(mean, log_std);
  const torch::Tensor unit = explore ? dist.rsample(generator_).first : dist.mode();
  const torch::Tensor actions = (action_center_ + action_scale_ * unit).contiguous();
  std::memcpy(out.continuous.data(), actions.data_ptr<float>(), sizeof(float) * slots);
}

ActionValues SacAgent::action_values(std::span<const uint8_t> observation) {
  if (observation.size() != input_.bytes()) {
    throw std::invalid_argument("sac: expected one observation of " +
                                std::to_string(input_.bytes()) + " bytes");
  }
  torch::InferenceMode inference;
  const torch::Tensor obs = input_(observation.data(), 1);
  torch::Tensor values;
  if (discrete_) {
    values = torch::min(q1_->q_all(obs), q2_->q_all(obs)).contiguous();
  } else {
    values =
        (action_center_ + action_scale_ * torch::tanh(actor_->gaussian(obs).first)).contiguous();
  }
  const float* data = values.data_ptr<float>();
  return {discrete_ ? "q" : "mean", std::vector<float>(data, data + values.numel())};
}

void SacAgent::observe(const TransitionBatch& t) {
  const size_t bytes = input_.bytes();
  const size_t width = discrete_ ? 0 : static_cast<size_t>(action_dim_);
  for (int i = 0; i < t.batch; ++i) {
    replay_.add(
        i, t.observations.subspan(i * bytes, bytes), discrete_ ? t.discrete_actions[i] : 0,
        discrete_ ? std::span<const float>() : t.continuous_actions.subspan(i * width, width),
        t.rewards[i], t.next_observations.subspan(i * bytes, bytes), t.terminated[i] != 0,
        t.truncated[i] != 0);
  }
}

std::map<std::string, double> SacAgent::update(int64_t env_steps) {
  env_steps_ = env_steps;
  int64_t due = 0;
  while (next_train_step_ <= env_steps_) {
    next_train_step_ += settings_.train_frequency;
    ++due;
  }
  // After a resume the replay starts empty: refill it before learning again.
  const int64_t warmup =
      std::max<int64_t>(1, std::min(settings_.learning_starts, settings_.buffer_size));
  if (due == 0 || env_steps_ < settings_.learning_starts || replay_.size() < warmup) return {};
  Losses losses;
  const int64_t steps = due * settings_.gradient_steps;
  for (int64_t i = 0; i < steps; ++i) learn_step(losses);
  std::map<std::string, double> metrics = {
      {"q_loss", losses.q / static_cast<double>(steps)},
      {"q_mean", losses.q_mean / static_cast<double>(steps)},
      {"alpha", alpha_},
      {"gradient_steps", static_cast<double>(gradient_steps_done_)}};
  // Policy updates are delayed (policy_frequency): report them only when some ran.
  if (losses.policy_updates > 0) {
    const double n = losses.policy_updates;
    metrics["actor_loss"] = losses.actor / n;
    metrics["alpha_loss"] = losses.alpha / n;
    metrics["entropy"] = losses.entropy / n;
  }
  return metrics;
}

std::vector<std::string> SacAgent::metric_names() const {
  return {"q_loss", "q_mean", "actor_loss", "alpha_loss", "entropy", "alpha", "gradient_steps"};
}

void SacAgent::learn_step(Losses& losses) {
  const int batch = static_cast<int>(settings_.batch_size);
  {
    Stopwatch watch(timings_.sample);
    replay_.sample(batch, rng_, batch_);
  }
  if (engine_) {
    // Plain floats (no tensor handles): the engine's steps allocate nothing.
    const float* obs = input_.floats(batch_.observations.data(), batch, observation_floats_);
    const float* next_obs =
        input_.floats(batch_.next_observations.data(), batch, next_observation_floats_);
    engine_critic_step(obs, next_obs, losses);
    ++gradient_steps_done_;
    if (gradient_steps_done_ % settings_.policy_frequency == 0) {
      for (int64_t i = 0; i < settings_.policy_frequency; ++i) engine_policy_step(obs, losses);
    }
  } else {
    const torch::Tensor obs = input_(batch_.observations.data(), batch);
    const torch::Tensor next_obs = input_(batch_.next_observations.data(), batch);
    critic_step(obs, next_obs, losses);
    ++gradient_steps_done_;
    if (gradient_steps_done_ % settings_.policy_frequency == 0) {
      for (int64_t i = 0; i < settings_.policy_frequency; ++i) policy_step(obs, losses);
    }
  }
  if (gradient_steps_done_ % settings_.target_frequency == 0) {
    Stopwatch watch(timings_.optimizer);
    q1_averager_->update(settings_.tau);
    q2_averager_->update(settings_.tau);
  }
}

void SacAgent::critic_step(const torch::Tensor& obs, const torch::Tensor& next_obs,
                           Losses& losses) {
  if (!discrete_) return box_critic_step(obs, next_obs, losses);
  const int64_t batch = settings_.batch_size;
  const torch::Tensor rewards = torch::from_blob(batch_.rewards.data(), {batch});
  const torch::Tensor discounts = torch::from_blob(batch_.discounts.data(), {batch});
  torch::Tensor q1, q2, target;
  {
    Stopwatch watch(timings_.forward);
    {
      torch::NoGradGuard no_grad;
      const Categorical next(actor_->logits(next_obs));
      const torch::Tensor min_q =
          torch::min(q1_target_->q_all(next_obs), q2_target_->q_all(next_obs));
      const torch::Tensor next_value = (next.probs() * (min_q - alpha_ * next.log_probs())).sum(1);
      target = rewards + discounts * next_value;
    }
    const torch::Tensor actions =
        torch::from_blob(batch_.discrete_actions.data(), {batch, 1}, torch::kInt64);
    q1 = q1_->q_all(obs).gather(1, actions).squeeze(1);
    q2 = q2_->q_all(obs).gather(1, actions).squeeze(1);
  }
  const torch::Tensor loss = (q1 - target).pow(2).mean() + (q2 - target).pow(2).mean();
  q_optimizer_->zero_grad();
  {
    Stopwatch watch(timings_.backward);
    loss.backward();
  }
  {
    Stopwatch watch(timings_.optimizer);
    q_optimizer_->step(0);
  }
  losses.q += loss.item<double>();
  losses.q_mean += q1.detach().mean().item<double>();
}

const float* SacAgent::normal_noise(torch::Tensor& buffer, int rows) {
  if (!buffer.defined() || buffer.size(0) != rows) buffer = torch::empty({rows, action_dim_});
  buffer.normal_(0.0, 1.0, generator_);
  return buffer.data_ptr<float>();
}

void SacAgent::box_critic_step(const torch::Tensor& obs, const torch::Tensor& next_obs,
                               Losses& losses) {
  const int batch = static_cast<int>(settings_.batch_size);
  targets_.resize(batch);
  q1_gradient_.resize(batch);
  q2_gradient_.resize(batch);
  torch::Tensor q1, q2;
  double loss = 0;
  {
    Stopwatch watch(timings_.forward);
    {
      torch::NoGradGuard no_grad;
      const auto [mean, log_std] = actor_->gaussian(next_obs);
      const auto [next_actions, next_log_prob] = TanhGaussian(mean, log_std).rsample(generator_);
      const torch::Tensor next_q1 = q1_target_->q(next_obs, next_actions).contiguous();
      const torch::Tensor next_q2 = q2_target_->q(next_obs, next_actions).contiguous();
      sac::soft_targets(batch_.rewards.data(), batch_.discounts.data(), next_q1.data_ptr<float>(),
                        next_q2.data_ptr<float>(), next_log_prob.contiguous().data_ptr<float>(),
                        static_cast<float>(alpha_), batch, targets_.data());
    }
    const torch::Tensor actions =
        to_unit(torch::from_blob(batch_.continuous_actions.data(), {int64_t{batch}, action_dim_}));
    q1 = q1_->q(obs, actions);
    q2 = q2_->q(obs, actions);
    loss = sac::critic_loss(q1.detach().contiguous().data_ptr<float>(),
                            q2.detach().contiguous().data_ptr<float>(), targets_.data(), batch,
                            q1_gradient_.data(), q2_gradient_.data());
  }
  q_optimizer_->zero_grad();
  {
    Stopwatch watch(timings_.backward);
    torch::autograd::backward({q1, q2},
                              {view_of(q1_gradient_, batch), view_of(q2_gradient_, batch)});
  }
  {
    Stopwatch watch(timings_.optimizer);
    q_optimizer_->step(0);
  }
  losses.q += loss;
  losses.q_mean += q1.detach().mean().item<double>();
}

void SacAgent::engine_critic_step(const float* obs, const float* next_obs, Losses& losses) {
  const int batch = static_cast<int>(settings_.batch_size);
  const size_t elements = static_cast<size_t>(batch) * action_dim_;
  unit_actions_.resize(elements);
  for (size_t i = 0; i < elements; ++i) {
    const size_t d = i % static_cast<size_t>(action_dim_);
    unit_actions_[i] = (batch_.continuous_actions[i] - center_[d]) / scale_[d];
  }
  double loss = 0, q1_mean = 0;
  {
    Stopwatch watch(timings_.forward);  // The engine's forward and backward passes.
    loss = engine_->critic_gradients(obs, next_obs, unit_actions_.data(), batch_.rewards.data(),
                                     batch_.discounts.data(), normal_noise(learn_noise_, batch),
                                     static_cast<float>(alpha_), batch, &q1_mean);
  }
  {
    Stopwatch watch(timings_.optimizer);
    q_optimizer_->step(0);
  }
  losses.q += loss;
  losses.q_mean += q1_mean;
}

void SacAgent::policy_step(const torch::Tensor& obs, Losses& losses) {
  if (!discrete_) return box_policy_step(obs, losses);
  torch::Tensor actor_loss, alpha_loss, entropy;
  {
    Stopwatch watch(timings_.forward);
    const Categorical dist(actor_->logits(obs));
    torch::Tensor min_q;
    {
      torch::NoGradGuard no_grad;
      min_q = torch::min(q1_->q_all(obs), q2_->q_all(obs));
    }
    const torch::Tensor probs = dist.probs();
    actor_loss = (probs * (alpha_ * dist.log_probs() - min_q)).sum(1).mean();
    entropy = dist.entropy().detach();
    // E_pi[-log_alpha' (log pi + target)], the expectation taken exactly over the actions.
    alpha_loss = -(log_alpha_.exp() * (target_entropy_ - entropy)).mean();
  }
  actor_optimizer_->zero_grad();
  {
    Stopwatch watch(timings_.backward);
    actor_loss.backward();
  }
  {
    Stopwatch watch(timings_.optimizer);
    actor_optimizer_->step(0);
  }
  if (settings_.autotune) {
    alpha_optimizer_->zero_grad();
    alpha_loss.backward();
    alpha_optimizer_->step(0);
    alpha_ = current_alpha();
  }
  losses.actor += actor_loss.item<double>();
  losses.alpha += alpha_loss.item<double>();
  losses.entropy += entropy.mean().item<double>();
  ++losses.policy_updates;
}

std::string SacAgent::network_signature() const {
  return actor_->signature() + " | " + q1_->signature();
}

void SacAgent::box_policy_step(const torch::Tensor& obs, Losses& losses) {
  const int batch = static_cast<int>(settings_.batch_size);
  q1_gradient_.resize(batch);
  q2_gradient_.resize(batch);
  log_prob_gradient_.resize(batch);
  torch::Tensor q1, q2, log_prob, log_prob_values;
  double loss = 0;
  {
    Stopwatch watch(timings_.forward);
    const auto [mean, log_std] = actor_->gaussian(obs);
    const auto [actions, sampled_log_prob] = TanhGaussian(mean, log_std).rsample(generator_);
    log_prob = sampled_log_prob;
    q1 = q1_->q(obs, actions);
    q2 = q2_->q(obs, actions);
    log_prob_values = log_prob.detach().contiguous();
    loss = sac::actor_loss(q1.detach().contiguous().data_ptr<float>(),
                           q2.detach().contiguous().data_ptr<float>(),
                           log_prob_values.data_ptr<float>(), static_cast<float>(alpha_), batch,
                           q1_gradient_.data(), q2_gradient_.data(), log_prob_gradient_.data());
  }
  actor_optimizer_->zero_grad();
  {
    Stopwatch watch(timings_.backward);
    torch::autograd::backward({q1, q2, log_prob},
                              {view_of(q1_gradient_, batch), view_of(q2_gradient_, batch),
                               view_of(log_prob_gradient_, batch)});
  }
  {
    Stopwatch watch(timings_.optimizer);
    actor_optimizer_->step(0);
  }
  losses.actor += loss;
  alpha_step(log_prob_values.data_ptr<float>(), batch, losses);
}

void SacAgent::engine_policy_step(const float* obs, Losses& losses) {
  const int batch = static_cast<int>(settings_.batch_size);
  const float* log_probs = nullptr;
  double loss = 0;
  {
    Stopwatch watch(timings_.forward);  // The engine's forward and backward passes.
    loss = engine_->actor_gradients(obs, normal_noise(learn_noise_, batch),
                                    static_cast<float>(alpha_), batch, &log_probs);
  }
  {
    Stopwatch watch(timings_.optimizer);
    actor_optimizer_->step(0);
  }
  losses.actor += loss;
  alpha_step(log_probs, batch, losses);
}

double SacAgent::current_alpha() const {
  return std::exp(static_cast<double>(log_alpha_.data_ptr<float>()[0]));
}

void SacAgent::alpha_step(const float* log_probs, int batch, Losses& losses) {
  double log_alpha_gradient = 0;
  const double log_alpha = log_alpha_.data_ptr<float>()[0];
  losses.alpha +=
      sac::alpha_loss(log_probs, batch, log_alpha, target_entropy_, &log_alpha_gradient);
  double log_prob_sum = 0;
  for (int i = 0; i < batch; ++i) log_prob_sum += log_probs[i];
  losses.entropy -= log_prob_sum / batch;
  ++losses.policy_updates;
  if (!settings_.autotune) return;
  log_alpha_.mutable_grad().data_ptr<float>()[0] = static_cast<float>(log_alpha_gradient);
  alpha_optimizer_->step(0);
  alpha_ = current_alpha();
}

void SacAgent::set_collectives(distributed::Collectives* collectives) {
  for (FlatOptimizer* optimizer :
       {actor_optimizer_.get(), q_optimizer_.get(), alpha_optimizer_.get()}) {
    optimizer->average_gradients_over(collectives);
  }
  if (!collectives) return;
  distributed::copy_from_rank0(*collectives, {actor_.get(), q1_.get(), q2_.get(), q1_target_.get(),
                                              q2_target_.get(), alpha_parameter_.get()});
  alpha_ = current_alpha();
  const int rank = collectives->rank();
  if (rank == 0) return;  // Keeps its streams (restored by a resume).
  rng_.seed_with(distributed::rank_seed(context_.seed ^ 0x7361635f72616e64ULL, rank));
  generator_ = make_generator(distributed::rank_seed(context_.seed ^ 0x7361635f67656e65ULL, rank));
}

void SacAgent::save(torch::serialize::OutputArchive& archive) const {
  write_network_signature(archive, network_signature());
  write_module(archive, "actor", *actor_);
  write_module(archive, "q1", *q1_);
  write_module(archive, "q2", *q2_);
  write_module(archive, "q1_target", *q1_target_);
  write_module(archive, "q2_target", *q2_target_);
  write_optimizer_state(archive, "actor_optimizer", *actor_optimizer_);
  write_optimizer_state(archive, "q_optimizer", *q_optimizer_);
  write_optimizer_state(archive, "alpha_optimizer", *alpha_optimizer_);
  archive.write("log_alpha", log_alpha_.detach());
  write_int(archive, "env_steps", env_steps_);
  write_int(archive, "gradient_steps", gradient_steps_done_);
  write_int(archive, "next_train_step", next_train_step_);
  write_rng(archive, "rng", rng_);
  write_generator(archive, "generator", generator_);
}

void SacAgent::load(torch::serialize::InputArchive& archive) {
  check_network_signature(archive, network_signature());
  read_module(archive, "actor", *actor_);
  read_module(archive, "q1", *q1_);
  read_module(archive, "q2", *q2_);
  read_module(archive, "q1_target", *q1_target_);
  read_module(archive, "q2_target", *q2_target_);
  // Module::load replaced the parameters' storage: back into the optimizers' flat buffers.
  actor_optimizer_->rebind();
  q_optimizer_->rebind();
  read_optimizer_state(archive, "actor_optimizer", *actor_optimizer_);
  read_optimizer_state(archive, "q_optimizer", *q_optimizer_);
  read_optimizer_state(archive, "alpha_optimizer", *alpha_optimizer_);
  torch::Tensor log_alpha;
  if (!archive.try_read("log_alpha", log_alpha) || log_alpha.numel() != 1) {
    throw std::runtime_error("checkpoint entry 'log_alpha' is missing or malformed");
  }
  {
    torch::NoGradGuard no_grad;
    log_alpha_.copy_(log_alpha.reshape({1}));
  }
  alpha_ = current_alpha();
  env_steps_ = read_int(archive, "env_steps");
  gradient_steps_done_ = read_int(archive, "gradient_steps");
  next_train_step_ = read_int(archive, "next_train_step");
  read_rng(archive, "rng", rng_);
  read_generator(archive, "generator", generator_);
}

void register_sac_agent(AgentRegistry& registry) {
  registry.add({"sac",
                "Soft actor-critic: twin Q, Polyak targets, automatic entropy tuning "
                "(continuous and discrete actions)",
                /*discrete_actions=*/true, /*continuous_actions=*/true,
                agent_factory<SacAgent>(read_sac_settings)});
}

}  // namespace rl
