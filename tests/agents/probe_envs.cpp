// Probe envs for the actor-critic tests.
// "test/target-v0": one-step continuous control. The observation is a target in [-1, 1] drawn
// each episode; the action (Box [-2, 2]) should equal it: reward -(action - target)^2, then the
// episode terminates. A policy ignoring the observation scores about -1/3 on average.
#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/registry.h"

namespace rl {
namespace {

class Target final : public Env {
 public:
  explicit Target(const Params&) : Env(make_spec()) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    target_ = static_cast<float>(rng().uniform(-1.0, 1.0));
    as_f32(obs)[0] = target_;
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    const float error = action.values[0] - target_;
    as_f32(obs)[0] = target_;
    return {-error * error, true, false};
  }

  void do_render(Image& out) const override {
    out.resize(40, 10, {255, 255, 255});
    fill_rect(out, static_cast<int>((target_ + 1.f) * 19.f), 0, 2, 10, {200, 0, 0});
  }

 private:
  static EnvSpec make_spec() {
    EnvSpec spec;
    spec.id = "test/target-v0";
    spec.description = "Output the observed target (continuous-action agent tests)";
    spec.observation_space = Space::box({1}, -1.f, 1.f, DType::kF32);
    spec.action_space = Space::box({1}, -2.f, 2.f, DType::kF32);
    spec.reward_min = -9.f;
    spec.reward_max = 0.f;
    spec.max_episode_steps = 1;
    spec.reward_threshold = -0.02;
    return spec;
  }

  float target_ = 0.f;
};

RLCADE_REGISTER_ENV({"test/target-v0",
                     "Output the observed target (continuous-action agent tests)",
                     {},
                     [](const Params& p) { return std::make_unique<Target>(p); }});

}  // namespace
}  // namespace rl

namespace rl {
namespace {

// "test/masked-v0": four actions, a random non-empty subset legal each step (the observation is
// the mask as floats). A legal action a pays (4 - a) / 4, so the best move is the lowest legal
// index; an illegal action is a bug in the agent and throws. Episodes last 8 steps.
class Masked final : public Env {
 public:
  explicit Masked(const Params&) : Env(make_spec()) {}

  bool legal_actions(std::span<uint8_t> mask) const override {
    std::copy(mask_.begin(), mask_.end(), mask.begin());
    return true;
  }

 protected:
  void do_reset(ObsBuffer obs) override { draw(obs); }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    if (!mask_[action.index]) {
      throw std::logic_error("test/masked-v0: illegal action " + std::to_string(action.index));
    }
    const float reward = static_cast<float>(4 - action.index) / 4.f;
    draw(obs);
    return {reward, false, false};
  }

  void do_render(Image& out) const override { out.resize(40, 10, {255, 255, 255}); }

 private:
  static EnvSpec make_spec() {
    EnvSpec spec;
    spec.id = "test/masked-v0";
    spec.description = "Choose the best legal action (action-mask tests)";
    spec.observation_space = Space::box({4}, 0.f, 1.f, DType::kF32);
    spec.action_space = Space::discrete(4);
    spec.reward_min = 0.f;
    spec.reward_max = 1.f;
    spec.max_episode_steps = 8;
    return spec;
  }

  void draw(ObsBuffer obs) {
    do {
      for (auto& m : mask_) m = rng().bernoulli(0.5) ? 1 : 0;
    } while (mask_[0] + mask_[1] + mask_[2] + mask_[3] == 0);
    for (int a = 0; a < 4; ++a) as_f32(obs)[a] = mask_[a];
  }

  std::array<uint8_t, 4> mask_{1, 1, 1, 1};
};

RLCADE_REGISTER_ENV({"test/masked-v0",
                     "Choose the best legal action (action-mask tests)",
                     {},
                     [](const Params& p) { return std::make_unique<Masked>(p); }});

}  // namespace
}  // namespace rl
