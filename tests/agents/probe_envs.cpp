// Probe envs for the actor-critic tests.
// "test/target-v0": one-step continuous control. The observation is a target in [-1, 1] drawn
// each episode; the action (Box [-2, 2]) should equal it: reward -(action - target)^2, then the
// episode terminates. A policy ignoring the observation scores about -1/3 on average.
#include <memory>

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
