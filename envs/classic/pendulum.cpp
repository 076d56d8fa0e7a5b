// Pendulum-v1 with Gymnasium's dynamics (envs/classic/dynamics.h): swing a pendulum up and
// keep it upright with a torque in [-2, 2]. Reward -(theta^2 + 0.1 theta_dot^2 + 0.001 u^2)
// with theta normalized to [-pi, pi) (0 = upright); it never terminates, only truncates.
// Starts at a uniform angle in [-pi, pi] and angular velocity in [-1, 1].
#include <cmath>
#include <memory>

#include "core/registry.h"
#include "envs/classic/dynamics.h"
#include "envs/classic/observation_subset.h"

namespace rl {
namespace {

constexpr double kPi = 3.14159265358979323846;

EnvSpec pendulum_spec(const Params& p) {
  EnvSpec spec;
  spec.id = "classic/pendulum-v1";
  spec.description = "Swing a pendulum upright and hold it there (Gymnasium Pendulum-v1)";
  spec.observation_space = Space::box({3}, {-1.f, -1.f, -8.f}, {1.f, 1.f, 8.f}, DType::kF32);
  spec.action_space = Space::box({1}, -2.f, 2.f, DType::kF32);
  // The worst cost: pi^2 + 0.1 * 8^2 + 0.001 * 2^2.
  spec.reward_min = -16.2736044f;
  spec.reward_max = 0.f;
  spec.max_episode_steps = p.get_int("max_episode_steps");
  return spec;
}

class Pendulum final : public Env {
 public:
  explicit Pendulum(const Params& p) : Env(pendulum_spec(p)), gravity_(p.get_float("g")) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    state_.theta = rng().uniform(-kPi, kPi);
    state_.theta_dot = rng().uniform(-1.0, 1.0);
    last_torque_ = 0.0;
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    last_torque_ = action.values[0];
    const classic::PendulumStep step =
        classic::pendulum_step(state_, last_torque_, gravity_, sin_theta_);
    state_ = step.next;
    write(obs);
    StepResult r;
    r.reward = static_cast<float>(-step.cost);
    return r;
  }

  void do_render(Image& out) const override {
    const int size = 500;
    out.resize(size, size, {255, 255, 255});
    const float scale = size / (2.f * 2.2f);
    const float c = size / 2.f;
    // theta = 0 points up; positive theta turns counter-clockwise on screen.
    const float theta = static_cast<float>(state_.theta);
    const float tip_x = c - scale * std::sin(theta), tip_y = c - scale * std::cos(theta);
    draw_line(out, c, c, tip_x, tip_y, 0.2f * scale, {204, 77, 77});
    fill_circle(out, c, c, 0.1f * scale, {204, 77, 77});
    fill_circle(out, tip_x, tip_y, 0.1f * scale, {204, 77, 77});
    // The last torque as an arrow below the axle: length and side show size and sign.
    const float arrow = static_cast<float>(last_torque_) * 0.25f * scale;
    if (arrow != 0.f) {
      const float y = c + 0.35f * scale;
      draw_line(out, c, y, c - arrow, y, 4.f, {60, 60, 60});
      const float head = arrow > 0 ? 10.f : -10.f;
      fill_triangle(out, c - arrow - head, y, c - arrow, y - 8, c - arrow, y + 8, {60, 60, 60});
    }
    fill_circle(out, c, c, 0.05f * scale, {0, 0, 0});
  }

 private:
  // Writes the observation and keeps sin(theta) for the next step's dynamics.
  void write(ObsBuffer obs) {
    sin_theta_ = std::sin(state_.theta);
    float* out = as_f32(obs);
    out[0] = static_cast<float>(std::cos(state_.theta));
    out[1] = static_cast<float>(sin_theta_);
    out[2] = static_cast<float>(state_.theta_dot);
  }

  double gravity_;
  double last_torque_ = 0.0;
  double sin_theta_ = 0.0;  // sin(state_.theta), written with each observation.
  classic::PendulumState state_;
};

EnvEntry pendulum_entry() {
  return entry_from_spec(
      {{"max_episode_steps", int64_t{200}, "Truncate episodes after this many steps", 1.0, 1e9, {}},
       {"g", 10.0, "Gravity (m/s^2), Gymnasium's g", 0.0, 100.0, {}}},
      pendulum_spec, [](const Params& p) { return std::make_unique<Pendulum>(p); });
}

RLCADE_REGISTER_ENV(pendulum_entry());
// cos(theta) and sin(theta) only (RL Zoo's PendulumNoVel): the angular velocity is hidden.
RLCADE_REGISTER_ENV(classic::observation_subset_entry(
    pendulum_entry(), "classic/pendulum-novel-v1",
    "Pendulum-v1 observing cos and sin of the angle only, no angular velocity (a POMDP)", {0, 1}));

}  // namespace
}  // namespace rl
