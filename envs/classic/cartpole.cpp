// CartPole-v1 with the dynamics and constants of Gymnasium's classic_control/cartpole.py
// (Barto, Sutton & Anderson 1983): Euler integration, tau 0.02, force 10.
#include <cmath>
#include <memory>

#include "core/registry.h"

namespace rl {
namespace {

constexpr double kGravity = 9.8;
constexpr double kCartMass = 1.0;
constexpr double kPoleMass = 0.1;
constexpr double kTotalMass = kCartMass + kPoleMass;
constexpr double kHalfPoleLength = 0.5;
constexpr double kPoleMassLength = kPoleMass * kHalfPoleLength;
constexpr double kForceMagnitude = 10.0;
constexpr double kTau = 0.02;
constexpr double kThetaLimit = 12.0 * 2.0 * M_PI / 360.0;
constexpr double kXLimit = 2.4;

EnvSpec cartpole_spec(int64_t max_steps) {
  const float big = 3.4028235e38f;
  EnvSpec spec;
  spec.id = "classic/cartpole-v1";
  spec.description = "Balance a pole on a cart by pushing it left or right (Gymnasium CartPole-v1)";
  spec.observation_space = Space::box(
      {4}, {-4.8f, -big, -0.41887903f, -big}, {4.8f, big, 0.41887903f, big}, DType::kF32);
  spec.action_space = Space::discrete(2);
  spec.reward_min = 0.f;
  spec.reward_max = 1.f;
  spec.max_episode_steps = max_steps;
  spec.reward_threshold = 475.0;
  spec.action_names = {"left", "right"};
  return spec;
}

class CartPole final : public Env {
 public:
  explicit CartPole(const Params& p) : Env(cartpole_spec(p.get_int("max_episode_steps"))) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    for (double& v : state_) v = rng().uniform(-0.05, 0.05);
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    auto& [x, x_dot, theta, theta_dot] = state_;
    const double force = action.index == 1 ? kForceMagnitude : -kForceMagnitude;
    const double cos_t = std::cos(theta), sin_t = std::sin(theta);
    const double temp = (force + kPoleMassLength * theta_dot * theta_dot * sin_t) / kTotalMass;
    const double theta_acc =
        (kGravity * sin_t - cos_t * temp) /
        (kHalfPoleLength * (4.0 / 3.0 - kPoleMass * cos_t * cos_t / kTotalMass));
    const double x_acc = temp - kPoleMassLength * theta_acc * cos_t / kTotalMass;
    x += kTau * x_dot;
    x_dot += kTau * x_acc;
    theta += kTau * theta_dot;
    theta_dot += kTau * theta_acc;
    write(obs);
    StepResult r;
    r.reward = 1.f;
    r.terminated = x < -kXLimit || x > kXLimit || theta < -kThetaLimit || theta > kThetaLimit;
    return r;
  }

  void do_render(Image& out) const override {
    const int w = 600, h = 400;
    out.resize(w, h, {255, 255, 255});
    const float scale = w / (2.f * kXLimit);
    const float cart_y = h * 0.75f;
    const float cart_x = static_cast<float>(state_[0]) * scale + w / 2.f;
    draw_line(out, 0, cart_y, w, cart_y, 1.f, {0, 0, 0});
    fill_rect(out, static_cast<int>(cart_x - 25), static_cast<int>(cart_y - 15), 50, 30,
              {0, 0, 0});
    const float pole_len = scale * 2.f * kHalfPoleLength;
    const float tip_x = cart_x + pole_len * std::sin(static_cast<float>(state_[2]));
    const float tip_y = cart_y - 5 - pole_len * std::cos(static_cast<float>(state_[2]));
    draw_line(out, cart_x, cart_y - 5, tip_x, tip_y, 10.f, {202, 152, 101});
    fill_circle(out, cart_x, cart_y - 5, 5.f, {129, 132, 203});
  }

 private:
  void write(ObsBuffer obs) const {
    float* out = as_f32(obs);
    for (int i = 0; i < 4; ++i) out[i] = static_cast<float>(state_[i]);
  }

  double state_[4] = {0, 0, 0, 0};
};

RLCADE_REGISTER_ENV({"classic/cartpole-v1",
                     "Balance a pole on a cart by pushing it left or right (Gymnasium CartPole-v1)",
                     {{"max_episode_steps", int64_t{500}, "Truncate episodes after this many steps",
                       1.0, 1e9, {}}},
                     [](const Params& p) { return std::make_unique<CartPole>(p); }});

}  // namespace
}  // namespace rl
