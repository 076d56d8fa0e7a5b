#include "core/wrappers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace rl {
namespace {

// The env a wrapper is about to wrap; throws when there is none.
const Env& wrapped(const std::unique_ptr<Env>& inner, const char* wrapper) {
  if (!inner) throw std::invalid_argument(std::string(wrapper) + ": the env to wrap is null");
  return *inner;
}

std::invalid_argument wrapper_error(const char* wrapper, const Env& inner, const std::string& why) {
  return std::invalid_argument(std::string(wrapper) + " on " + inner.spec().id + ": " + why);
}

EnvSpec time_limit_spec(const std::unique_ptr<Env>& inner, int64_t max_episode_steps) {
  const Env& env = wrapped(inner, "TimeLimit");
  if (max_episode_steps < 1)
    throw wrapper_error("TimeLimit", env,
                        "max_episode_steps must be >= 1, got " + std::to_string(max_episode_steps));
  EnvSpec spec = env.spec();
  spec.max_episode_steps = max_episode_steps;
  return spec;
}

EnvSpec frame_stack_spec(const std::unique_ptr<Env>& inner, int k) {
  const Env& env = wrapped(inner, "FrameStack");
  if (k < 1) throw wrapper_error("FrameStack", env, "k must be >= 1, got " + std::to_string(k));
  const Space& space = env.spec().observation_space;
  if (space.is_discrete())
    throw wrapper_error("FrameStack", env,
                        "needs a Box observation space, got " + space.describe());
  EnvSpec spec = env.spec();
  std::vector<int64_t> shape = space.shape.empty() ? std::vector<int64_t>{1} : space.shape;
  shape[0] *= k;
  std::vector<float> low, high;
  for (int i = 0; i < k; ++i) {
    low.insert(low.end(), space.low.begin(), space.low.end());
    high.insert(high.end(), space.high.begin(), space.high.end());
  }
  spec.observation_space = Space::box(shape, low, high, space.dtype);
  return spec;
}

EnvSpec reward_clip_spec(const std::unique_ptr<Env>& inner, float low, float high) {
  const Env& env = wrapped(inner, "RewardClip");
  if (!std::isfinite(low) || !std::isfinite(high) || low > high)
    throw wrapper_error("RewardClip", env,
                        "needs finite low <= high, got [" + std::to_string(low) + ", " +
                            std::to_string(high) + "]");
  EnvSpec spec = env.spec();
  const bool changes_rewards = spec.reward_min < low || spec.reward_max > high;
  spec.reward_min = std::clamp(spec.reward_min, low, high);
  spec.reward_max = std::clamp(spec.reward_max, low, high);
  if (changes_rewards) spec.reward_threshold.reset();  // Clipped returns differ.
  return spec;
}

EnvSpec reward_scale_spec(const std::unique_ptr<Env>& inner, float scale) {
  const Env& env = wrapped(inner, "RewardScale");
  if (!std::isfinite(scale) || scale == 0.f)
    throw wrapper_error("RewardScale", env,
                        "scale must be finite and non-zero, got " + std::to_string(scale));
  EnvSpec spec = env.spec();
  const float a = spec.reward_min * scale, b = spec.reward_max * scale;
  spec.reward_min = std::min(a, b);
  spec.reward_max = std::max(a, b);
  if (spec.reward_threshold) *spec.reward_threshold *= scale;
  return spec;
}

EnvSpec normalize_spec(const std::unique_ptr<Env>& inner, double clip, double epsilon) {
  const Env& env = wrapped(inner, "NormalizeObservation");
  const Space& space = env.spec().observation_space;
  if (space.is_discrete())
    throw wrapper_error("NormalizeObservation", env,
                        "needs a Box observation space, got " + space.describe());
  if (!(clip > 0.0) || !std::isfinite(clip))
    throw wrapper_error("NormalizeObservation", env,
                        "clip must be finite and > 0, got " + std::to_string(clip));
  if (!(epsilon > 0.0) || !std::isfinite(epsilon))
    throw wrapper_error("NormalizeObservation", env,
                        "epsilon must be finite and > 0, got " + std::to_string(epsilon));
  EnvSpec spec = env.spec();
  spec.observation_space =
      Space::box(space.shape, static_cast<float>(-clip), static_cast<float>(clip), DType::kF32);
  return spec;
}

}  // namespace

// ---- Wrapper ----------------------------------------------------------------------------

Wrapper::Wrapper(std::unique_ptr<Env>&& inner, EnvSpec spec)
    : Env(std::move(spec)), inner_(std::move(inner)) {}

Env& Wrapper::unwrapped() {
  Env* env = inner_.get();
  while (auto* wrapper = dynamic_cast<Wrapper*>(env)) env = &wrapper->inner();
  return *env;
}

void Wrapper::reset_inner(ObsBuffer obs) {
  if (pending_seed_) {
    const uint64_t seed = *pending_seed_;
    pending_seed_.reset();
    inner_->reset(seed, obs);
  } else {
    inner_->reset(obs);
  }
}

// ---- TimeLimit --------------------------------------------------------------------------

TimeLimit::TimeLimit(std::unique_ptr<Env> inner, int64_t max_episode_steps)
    : Wrapper(std::move(inner), time_limit_spec(inner, max_episode_steps)) {
  // This wrapper's Env bookkeeping now enforces the limit; lift the ones below it.
  for (Env* env = inner_.get(); env;) {
    env->set_max_episode_steps(0);
    auto* wrapper = dynamic_cast<Wrapper*>(env);
    env = wrapper ? &wrapper->inner() : nullptr;
  }
}

// ---- FrameStack -------------------------------------------------------------------------

FrameStack::FrameStack(std::unique_ptr<Env> inner, int k)
    : Wrapper(std::move(inner), frame_stack_spec(inner, k)), k_(k) {
  frame_bytes_ = inner_->spec().observation_space.bytes();
  stack_.assign(k_ * frame_bytes_, 0);
  frame_.assign(frame_bytes_, 0);
}

void FrameStack::do_reset(ObsBuffer obs) {
  reset_inner(frame_);
  for (int i = 0; i < k_; ++i)
    std::memcpy(stack_.data() + i * frame_bytes_, frame_.data(), frame_bytes_);
  std::memcpy(obs.data(), stack_.data(), stack_.size());
}

StepResult FrameStack::do_step(const Action& action, ObsBuffer obs) {
  const StepResult result = inner_->step(action, frame_);
  std::memmove(stack_.data(), stack_.data() + frame_bytes_, (k_ - 1) * frame_bytes_);
  std::memcpy(stack_.data() + (k_ - 1) * frame_bytes_, frame_.data(), frame_bytes_);
  std::memcpy(obs.data(), stack_.data(), stack_.size());
  return result;
}

// ---- Rewards ----------------------------------------------------------------------------

RewardClip::RewardClip(std::unique_ptr<Env> inner, float low, float high)
    : Wrapper(std::move(inner), reward_clip_spec(inner, low, high)), low_(low), high_(high) {}

StepResult RewardClip::do_step(const Action& action, ObsBuffer obs) {
  StepResult result = inner_->step(action, obs);
  result.reward = std::clamp(result.reward, low_, high_);
  return result;
}

RewardScale::RewardScale(std::unique_ptr<Env> inner, float scale)
    : Wrapper(std::move(inner), reward_scale_spec(inner, scale)), scale_(scale) {}

StepResult RewardScale::do_step(const Action& action, ObsBuffer obs) {
  StepResult result = inner_->step(action, obs);
  result.reward *= scale_;
  return result;
}

// ---- NormalizeObservation ---------------------------------------------------------------

NormalizeObservation::NormalizeObservation(std::unique_ptr<Env> inner,
                                           std::shared_ptr<SharedRunningStats> stats, double clip,
                                           double epsilon, bool frozen)
    : Wrapper(std::move(inner), normalize_spec(inner, clip, epsilon)),
      stats_(std::move(stats)),
      clip_(clip),
      epsilon_(epsilon),
      frozen_(frozen) {
  const Space& space = inner_->spec().observation_space;
  const size_t numel = static_cast<size_t>(space.numel());
  if (!stats_) stats_ = std::make_shared<SharedRunningStats>(numel);
  if (stats_->dim() != numel)
    throw wrapper_error("NormalizeObservation", *inner_,
                        "shared statistics have dimension " + std::to_string(stats_->dim()) +
                            ", the observation has " + std::to_string(numel) + " elements");
  raw_.assign(space.bytes(), 0);
  raw_float_.assign(numel, 0.f);
}

void NormalizeObservation::normalize(ObsBuffer obs) {
  if (inner_->spec().observation_space.dtype == DType::kU8)
    std::copy(raw_.begin(), raw_.end(), raw_float_.begin());
  else
    std::memcpy(raw_float_.data(), raw_.data(), raw_.size());
  stats_->normalize(raw_float_, !frozen_, epsilon_, clip_,
                    std::span<float>(as_f32(obs), raw_float_.size()));
}

void NormalizeObservation::do_reset(ObsBuffer obs) {
  reset_inner(raw_);
  normalize(obs);
}

StepResult NormalizeObservation::do_step(const Action& action, ObsBuffer obs) {
  const StepResult result = inner_->step(action, raw_);
  normalize(obs);
  return result;
}

// ---- EpisodeStatistics ------------------------------------------------------------------

EpisodeStatistics::EpisodeStatistics(std::unique_ptr<Env> inner, int window)
    : Wrapper(std::move(inner), wrapped(inner, "EpisodeStatistics").spec()),
      window_(window > 0 ? static_cast<size_t>(window) : 0) {
  if (window < 1)
    throw wrapper_error("EpisodeStatistics", *inner_,
                        "window must be >= 1, got " + std::to_string(window));
}

void EpisodeStatistics::do_reset(ObsBuffer obs) {
  running_return_ = 0.0;
  running_length_ = 0;
  reset_inner(obs);
}

StepResult EpisodeStatistics::do_step(const Action& action, ObsBuffer obs) {
  const StepResult result = inner_->step(action, obs);
  running_return_ += result.reward;
  ++running_length_;
  if (result.done()) {
    if (recent_.size() == window_) recent_.pop_front();
    recent_.push_back({running_return_, running_length_});
    ++total_episodes_;
  }
  return result;
}

double EpisodeStatistics::mean_return() const {
  if (recent_.empty()) return 0.0;
  double sum = 0.0;
  for (const Episode& e : recent_) sum += e.episode_return;
  return sum / static_cast<double>(recent_.size());
}

// ---- By name ----------------------------------------------------------------------------

const std::vector<WrapperInfo>& wrapper_catalog() {
  static const std::vector<WrapperInfo> catalog = {
      {"time_limit",
       "Truncate episodes after max_episode_steps steps (replaces the env's own limit)",
       {{"max_episode_steps", int64_t{0}, "Step limit per episode (required)", 1.0, 1e12, {}}}},
      {"frame_stack",
       "Stack the last k observations along the first axis (oldest first)",
       {{"k", int64_t{4}, "Number of observations stacked", 1.0, 64.0, {}}}},
      {"reward_clip",
       "Clamp every reward to [low, high]",
       {{"low", -1.0, "Lowest reward", std::nullopt, std::nullopt, {}},
        {"high", 1.0, "Highest reward", std::nullopt, std::nullopt, {}}}},
      {"reward_scale",
       "Multiply every reward by scale",
       {{"scale", 1.0, "Reward multiplier (non-zero)", std::nullopt, std::nullopt, {}}}},
      {"normalize_observation",
       "Normalize observations with a running mean/variance shared by all env copies (f32 out)",
       {{"clip", 10.0, "Normalized values are clipped to [-clip, clip]", 1e-6, std::nullopt, {}},
        {"epsilon", 1e-8, "Added to the variance before the square root", 1e-12, 1.0, {}},
        {"frozen",
         false,
         "Use the statistics without updating them (evaluation)",
         std::nullopt,
         std::nullopt,
         {}}}},
      {"episode_statistics",
       "Record the return and length of every finished episode",
       {{"window", int64_t{100}, "Number of recent episodes kept", 1.0, 1e9, {}}}},
  };
  return catalog;
}

std::unique_ptr<Env> apply_wrapper(std::unique_ptr<Env> env, const std::string& name,
                                   const std::map<std::string, ParamValue>& params) {
  WrapperContext context;
  return apply_wrapper(std::move(env), name, params, context);
}

std::unique_ptr<Env> apply_wrapper(std::unique_ptr<Env> env, const std::string& name,
                                   const std::map<std::string, ParamValue>& params,
                                   WrapperContext& context) {
  const auto& catalog = wrapper_catalog();
  const auto info = std::find_if(catalog.begin(), catalog.end(),
                                 [&](const WrapperInfo& w) { return w.name == name; });
  if (info == catalog.end()) {
    std::string known;
    for (const WrapperInfo& w : catalog) known += (known.empty() ? "" : ", ") + w.name;
    throw std::invalid_argument("unknown wrapper '" + name + "'; known wrappers: " + known);
  }
  const std::string owner = "wrapper '" + name + "'";
  const Params p = Params::resolve(info->params, params, owner);
  if (name == "time_limit") {
    if (!params.count("max_episode_steps"))
      throw std::invalid_argument(owner + ": parameter 'max_episode_steps' is required");
    return std::make_unique<TimeLimit>(std::move(env), p.get_int("max_episode_steps"));
  }
  if (name == "frame_stack")
    return std::make_unique<FrameStack>(std::move(env), static_cast<int>(p.get_int("k")));
  if (name == "reward_clip")
    return std::make_unique<RewardClip>(std::move(env), static_cast<float>(p.get_float("low")),
                                        static_cast<float>(p.get_float("high")));
  if (name == "reward_scale")
    return std::make_unique<RewardScale>(std::move(env), static_cast<float>(p.get_float("scale")));
  if (name == "normalize_observation") {
    auto wrapper = std::make_unique<NormalizeObservation>(
        std::move(env), context.observation_stats, p.get_float("clip"), p.get_float("epsilon"),
        p.get_bool("frozen"));
    if (!context.observation_stats) context.observation_stats = wrapper->stats();
    return wrapper;
  }
  if (name == "episode_statistics")
    return std::make_unique<EpisodeStatistics>(std::move(env),
                                               static_cast<int>(p.get_int("window")));
  throw std::logic_error("apply_wrapper: catalog entry '" + name + "' has no constructor");
}

}  // namespace rl
