// Env wrappers: each is an Env owning the env it wraps, so spec() describes what the caller
// actually gets (stacked shape, normalized dtype, new step limit, changed reward range).
// reset(seed) on a wrapper seeds the wrapped env with the same seed, so a wrapped env with seed
// s runs the same episodes as the bare env with seed s. Wrappers can also be applied by name
// from a config with apply_wrapper().
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/params.h"
#include "core/running_stats.h"

namespace rl {

class Wrapper : public Env {
 public:
  Env& inner() { return *inner_; }
  const Env& inner() const { return *inner_; }
  // The innermost env, below every wrapper.
  Env& unwrapped();

  bool legal_actions(std::span<uint8_t> mask) const override { return inner_->legal_actions(mask); }

 protected:
  // `spec` is what the wrapper exposes, usually derived from inner->spec(); `inner` is taken
  // by rvalue reference so a derived class can compute the spec from it in the same call.
  Wrapper(std::unique_ptr<Env>&& inner, EnvSpec spec);

  // Resets the wrapped env: with the seed passed to reset(seed) if this reset came from one,
  // otherwise continuing the wrapped env's RNG stream.
  void reset_inner(ObsBuffer obs);

  void do_reset(ObsBuffer obs) override { reset_inner(obs); }
  StepResult do_step(const Action& action, ObsBuffer obs) override {
    return inner_->step(action, obs);
  }
  void do_render(Image& out) const override { inner_->render(out); }
  void on_seed(uint64_t seed) override { pending_seed_ = seed; }

  std::unique_ptr<Env> inner_;

 private:
  std::optional<uint64_t> pending_seed_;
};

// Finds the outermost wrapper of type W in the chain starting at `env` (env itself included),
// or nullptr.
template <typename W>
W* find_wrapper(Env& env) {
  for (Env* e = &env;;) {
    if (auto* found = dynamic_cast<W*>(e)) return found;
    auto* wrapper = dynamic_cast<Wrapper*>(e);
    if (!wrapper) return nullptr;
    e = &wrapper->inner();
  }
}

// Truncates episodes after `max_episode_steps` steps, replacing the limits of every env below.
class TimeLimit final : public Wrapper {
 public:
  TimeLimit(std::unique_ptr<Env> inner, int64_t max_episode_steps);
};

// Observations are the last k observations concatenated along the first axis, oldest first
// (shape [c, ...] becomes [k * c, ...]). reset() fills the stack with the first observation.
class FrameStack final : public Wrapper {
 public:
  FrameStack(std::unique_ptr<Env> inner, int k);

 protected:
  void do_reset(ObsBuffer obs) override;
  StepResult do_step(const Action& action, ObsBuffer obs) override;

 private:
  int k_;
  size_t frame_bytes_;
  std::vector<uint8_t> stack_;  // k frames, oldest first.
  std::vector<uint8_t> frame_;  // The wrapped env's latest observation.
};

// Clamps every reward to [low, high].
class RewardClip final : public Wrapper {
 public:
  RewardClip(std::unique_ptr<Env> inner, float low = -1.f, float high = 1.f);

 protected:
  StepResult do_step(const Action& action, ObsBuffer obs) override;

 private:
  float low_, high_;
};

// Multiplies every reward by `scale` (finite, non-zero); the reward range and threshold follow.
class RewardScale final : public Wrapper {
 public:
  RewardScale(std::unique_ptr<Env> inner, float scale);

 protected:
  StepResult do_step(const Action& action, ObsBuffer obs) override;

 private:
  float scale_;
};

// Normalizes observations with a running mean and variance: (x - mean) / sqrt(var + epsilon),
// clipped to [-clip, clip], as f32 whatever the wrapped dtype. Every observation (from reset and
// step) updates the statistics unless the wrapper is frozen (evaluation copies). Pass the same
// `stats` to every copy of a vector env (and to the evaluation copies) so they share one set;
// null creates a private one.
class NormalizeObservation final : public Wrapper {
 public:
  NormalizeObservation(std::unique_ptr<Env> inner, std::shared_ptr<SharedRunningStats> stats,
                       double clip = 10.0, double epsilon = 1e-8, bool frozen = false);

  const std::shared_ptr<SharedRunningStats>& stats() const { return stats_; }
  bool frozen() const { return frozen_; }
  void set_frozen(bool frozen) { frozen_ = frozen; }

 protected:
  void do_reset(ObsBuffer obs) override;
  StepResult do_step(const Action& action, ObsBuffer obs) override;

 private:
  void normalize(ObsBuffer obs);

  std::shared_ptr<SharedRunningStats> stats_;
  double clip_, epsilon_;
  bool frozen_;
  std::vector<uint8_t> raw_;      // The wrapped env's observation.
  std::vector<float> raw_float_;  // The same as floats.
};

// Records the return (sum of the rewards it sees) and length of every finished episode. It only
// sees episode ends decided below it: apply it after (outside) any TimeLimit, usually last.
class EpisodeStatistics final : public Wrapper {
 public:
  struct Episode {
    double episode_return;
    int64_t length;
  };

  // Keeps the last `window` episodes (>= 1).
  EpisodeStatistics(std::unique_ptr<Env> inner, int window = 100);

  const std::deque<Episode>& recent() const { return recent_; }
  int64_t total_episodes() const { return total_episodes_; }
  // Mean return over recent() (0 when empty).
  double mean_return() const;

 protected:
  void do_reset(ObsBuffer obs) override;
  StepResult do_step(const Action& action, ObsBuffer obs) override;

 private:
  size_t window_;
  double running_return_ = 0.0;
  int64_t running_length_ = 0;
  int64_t total_episodes_ = 0;
  std::deque<Episode> recent_;
};

// ---- Wrappers by name -------------------------------------------------------------------

struct WrapperInfo {
  std::string name;
  std::string description;  // One line.
  std::vector<ParamSpec> params;
};

// Every wrapper apply_wrapper() knows, with its parameters (for docs and `--list`).
const std::vector<WrapperInfo>& wrapper_catalog();

// State shared by the wrappers built for the copies of one vector env (and its evaluation
// copies): pass the same context to every apply_wrapper call for them.
struct WrapperContext {
  // Created by the first "normalize_observation"; checkpoints save/load it.
  std::shared_ptr<SharedRunningStats> observation_stats;
};

// Wraps `env` with the wrapper called `name`, configured by `params`. Throws
// std::invalid_argument for an unknown name (listing the known ones) or bad parameters
// (listing the valid ones), and for a wrapper that does not fit the env (e.g. frame stacking
// a Discrete observation space).
std::unique_ptr<Env> apply_wrapper(std::unique_ptr<Env> env, const std::string& name,
                                   const std::map<std::string, ParamValue>& params);
std::unique_ptr<Env> apply_wrapper(std::unique_ptr<Env> env, const std::string& name,
                                   const std::map<std::string, ParamValue>& params,
                                   WrapperContext& context);

}  // namespace rl
