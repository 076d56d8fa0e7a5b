// Acrobot-v1 with Gymnasium's dynamics (book equations, RK4, dt 0.2; envs/classic/dynamics.h):
// two links hang from a pivot; torque -1, 0 or +1 on the middle joint must swing the free end
// higher than one link length above the pivot. -1 per step, 0 on the step that reaches it.
// Observation: cos/sin of both angles and both angular velocities.
#include <cmath>
#include <memory>

#include "core/registry.h"
#include "envs/classic/dynamics.h"

namespace rl {
namespace {

constexpr float kPi = 3.14159265358979f;

EnvSpec acrobot_spec(const Params& p) {
  EnvSpec spec;
  spec.id = "classic/acrobot-v1";
  spec.description = "Swing the end of a two-link pendulum above a line (Gymnasium Acrobot-v1)";
  const std::vector<float> high = {1.f, 1.f, 1.f, 1.f, 4 * kPi, 9 * kPi};
  const std::vector<float> low = {-1.f, -1.f, -1.f, -1.f, -4 * kPi, -9 * kPi};
  spec.observation_space = Space::box({6}, low, high, DType::kF32);
  spec.action_space = Space::discrete(3);
  spec.reward_min = -1.f;
  spec.reward_max = 0.f;
  spec.max_episode_steps = p.get_int("max_episode_steps");
  spec.reward_threshold = -100.0;
  spec.action_names = {"torque -1", "no torque", "torque +1"};
  return spec;
}

class Acrobot final : public Env {
 public:
  explicit Acrobot(const Params& p) : Env(acrobot_spec(p)) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    // Gymnasium draws the start state in float32.
    for (double& v : state_) v = static_cast<float>(rng().uniform(-0.1, 0.1));
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    const double torque = static_cast<double>(action.index) - 1.0;
    state_ = classic::acrobot_step(state_, torque);
    write(obs);
    StepResult r;
    r.terminated = classic::acrobot_reached_goal(state_);
    r.reward = r.terminated ? 0.f : -1.f;
    return r;
  }

  void do_render(Image& out) const override {
    const int size = 500;
    out.resize(size, size, {255, 255, 255});
    const float scale = size / (2.f * 2.2f);
    const float cx = size / 2.f, cy = size / 2.f;
    // Angles are measured from straight down; the image's y grows downward.
    const float t1 = static_cast<float>(state_[0]), t12 = static_cast<float>(state_[0] + state_[1]);
    const float x1 = cx + scale * std::sin(t1), y1 = cy + scale * std::cos(t1);
    const float x2 = x1 + scale * std::sin(t12), y2 = y1 + scale * std::cos(t12);
    draw_line(out, cx - 2.2f * scale, cy - scale, cx + 2.2f * scale, cy - scale, 1.f, {0, 0, 0});
    draw_line(out, cx, cy, x1, y1, 0.2f * scale, {0, 204, 204});
    draw_line(out, x1, y1, x2, y2, 0.2f * scale, {0, 204, 204});
    fill_circle(out, cx, cy, 0.1f * scale, {204, 204, 0});
    fill_circle(out, x1, y1, 0.1f * scale, {204, 204, 0});
  }

 private:
  void write(ObsBuffer obs) const {
    float* out = as_f32(obs);
    out[0] = static_cast<float>(std::cos(state_[0]));
    out[1] = static_cast<float>(std::sin(state_[0]));
    out[2] = static_cast<float>(std::cos(state_[1]));
    out[3] = static_cast<float>(std::sin(state_[1]));
    out[4] = static_cast<float>(state_[2]);
    out[5] = static_cast<float>(state_[3]);
  }

  classic::AcrobotState state_{};
};

RLCADE_REGISTER_ENV(entry_from_spec(
    {{"max_episode_steps", int64_t{500}, "Truncate episodes after this many steps", 1.0, 1e9, {}}},
    acrobot_spec, [](const Params& p) { return std::make_unique<Acrobot>(p); }));

}  // namespace
}  // namespace rl
