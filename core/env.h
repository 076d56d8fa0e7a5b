// The environment contract. Concrete envs implement do_reset/do_step/do_render; the base
// class owns the bookkeeping (step counting, max-episode-steps truncation, episode return and
// length, action validation, seeding) so every env behaves the same at the edges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/rng.h"
#include "core/spaces.h"

namespace rl {

// Caller-owned observation storage: exactly spec().observation_space.bytes() bytes.
using ObsBuffer = std::span<uint8_t>;

inline float* as_f32(ObsBuffer obs) { return reinterpret_cast<float*>(obs.data()); }
inline const float* as_f32(std::span<const uint8_t> obs) {
  return reinterpret_cast<const float*>(obs.data());
}

// One action: `index` for Discrete action spaces, `values` (numel floats) for Box ones.
struct Action {
  int64_t index = 0;
  std::span<const float> values;

  static Action discrete(int64_t i) { return Action{i, {}}; }
  static Action continuous(std::span<const float> v) { return Action{0, v}; }
};

// What one step produced. `terminated`: the episode ended inside the MDP (do not bootstrap).
// `truncated`: it was cut short from outside, e.g. by the step limit (bootstrap from the
// final observation). Both can never be true at once; terminated wins.
// `success`: set by envs that judge success (EnvSpec::reports_success) on the step that ends a
// successful episode, e.g. reaching a grid task's goal. Env::step clears it unless the env
// itself ended the episode on that step (an episode cut by the step limit did not succeed).
struct StepResult {
  float reward = 0.f;
  bool terminated = false;
  bool truncated = false;
  bool success = false;
  bool done() const { return terminated || truncated; }
};

// Static description of an env instance.
struct EnvSpec {
  std::string id;           // Registry id with version, e.g. "classic/cartpole-v1".
  std::string description;  // One line.
  Space observation_space;
  Space action_space;
  float reward_min = -1e9f;  // Bounds on a single step's reward.
  float reward_max = 1e9f;
  int64_t max_episode_steps = 0;           // Truncation limit enforced by Env; 0 means none.
  std::optional<double> reward_threshold;  // Return at which the task counts as solved.
  std::vector<std::string> action_names;   // Optional names for Discrete actions (HUD, play).
  // True when the env judges episodes as succeeded or failed (StepResult::success); evaluation
  // then reports a success rate. Wrappers copy it with the rest of the spec.
  bool reports_success = false;
};

class Env {
 public:
  virtual ~Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  const EnvSpec& spec() const { return spec_; }

  // Re-seeds the env RNG with `seed` and starts an episode, writing the first observation.
  void reset(uint64_t seed, ObsBuffer obs);
  // Starts a new episode continuing the current RNG stream (auto-reset uses this).
  void reset(ObsBuffer obs);
  // Advances one step. Throws std::invalid_argument for an action outside the action space
  // or a wrong-size buffer, std::logic_error when called before reset or after the episode
  // ended. Truncates at spec().max_episode_steps.
  StepResult step(const Action& action, ObsBuffer obs);

  // Draws the current state as an RGB image; the env chooses the natural size.
  void render(Image& out) const { do_render(out); }

  // Legal-action mask for Discrete action spaces (1 = legal). Returns false when the env does
  // not restrict actions (all legal); otherwise fills `mask` (n bytes) and returns true.
  virtual bool legal_actions(std::span<uint8_t> mask) const {
    (void)mask;
    return false;
  }

  int64_t episode_steps() const { return episode_steps_; }
  double episode_return() const { return episode_return_; }
  bool episode_over() const { return episode_over_; }
  // StepResult::success of the last step of the most recently finished episode (false before
  // any episode ended). reset() keeps it, so after a VectorEnv auto-reset it still describes
  // the episode that just ended. Meaningful only when spec().reports_success.
  bool last_episode_succeeded() const { return last_episode_succeeded_; }
  void set_max_episode_steps(int64_t steps) { spec_.max_episode_steps = steps; }

 protected:
  explicit Env(EnvSpec spec) : spec_(std::move(spec)) {}

  // Writes the first observation of a new episode. The RNG has been seeded already.
  virtual void do_reset(ObsBuffer obs) = 0;
  // Applies a validated action and writes the next observation. Sets reward and
  // terminated; may set truncated for env-internal limits (the base adds the step limit).
  virtual StepResult do_step(const Action& action, ObsBuffer obs) = 0;
  virtual void do_render(Image& out) const = 0;
  // Called by reset(seed, obs) right after the RNG is re-seeded, before do_reset. Wrappers
  // override it to pass the seed on to the env they wrap.
  virtual void on_seed(uint64_t seed) { (void)seed; }

  Rng& rng() { return rng_; }
  EnvSpec& mutable_spec() { return spec_; }

 private:
  void check_buffer(ObsBuffer obs) const;
  void check_action(const Action& action) const;

  EnvSpec spec_;
  Rng rng_;
  int64_t episode_steps_ = 0;
  double episode_return_ = 0.0;
  bool has_reset_ = false;
  bool episode_over_ = false;
  bool last_episode_succeeded_ = false;
};

}  // namespace rl
