// CartPole-v1 with the dynamics and constants of Gymnasium's classic_control/cartpole.py
// (Barto, Sutton & Anderson 1983): Euler integration, tau 0.02, force 10.
#include <cmath>
#include <memory>

#include "core/registry.h"
#include "envs/classic/dynamics.h"
#include "envs/classic/observation_subset.h"

namespace rl {
namespace {

constexpr double kXLimit = 2.4;

EnvSpec cartpole_spec(const Params& p) {
  const float big = 3.4028235e38f;
  EnvSpec spec;
  spec.id = "classic/cartpole-v1";
  spec.description = "Balance a pole on a cart by pushing it left or right (Gymnasium CartPole-v1)";
  spec.observation_space = Space::box({4}, {-4.8f, -big, -0.41887903f, -big},
                                      {4.8f, big, 0.41887903f, big}, DType::kF32);
  spec.action_space = Space::discrete(2);
  spec.reward_min = 0.f;
  spec.reward_max = 1.f;
  spec.max_episode_steps = p.get_int("max_episode_steps");
  spec.reward_threshold = 475.0;
  spec.action_names = {"left", "right"};
  return spec;
}

class CartPole final : public Env {
 public:
  explicit CartPole(const Params& p) : Env(cartpole_spec(p)) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    for (double* v : {&state_.x, &state_.x_dot, &state_.theta, &state_.theta_dot})
      *v = rng().uniform(-0.05, 0.05);
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    state_ = classic::cartpole_step(state_, static_cast<int>(action.index));
    write(obs);
    StepResult r;
    r.reward = 1.f;
    r.terminated = classic::cartpole_failed(state_);
    return r;
  }

  void do_render(Image& out) const override {
    const int w = 600, h = 400;
    out.resize(w, h, {255, 255, 255});
    const float scale = w / (2.f * kXLimit);
    const float cart_y = h * 0.75f;
    const float cart_x = static_cast<float>(state_.x) * scale + w / 2.f;
    draw_line(out, 0, cart_y, w, cart_y, 1.f, {0, 0, 0});
    fill_rect(out, static_cast<int>(cart_x - 25), static_cast<int>(cart_y - 15), 50, 30, {0, 0, 0});
    const float pole_len = scale * 2.f * 0.5f;  // Pole length 1 (half-length 0.5).
    const float tip_x = cart_x + pole_len * std::sin(static_cast<float>(state_.theta));
    const float tip_y = cart_y - 5 - pole_len * std::cos(static_cast<float>(state_.theta));
    draw_line(out, cart_x, cart_y - 5, tip_x, tip_y, 10.f, {202, 152, 101});
    fill_circle(out, cart_x, cart_y - 5, 5.f, {129, 132, 203});
  }

 private:
  void write(ObsBuffer obs) const {
    float* out = as_f32(obs);
    out[0] = static_cast<float>(state_.x);
    out[1] = static_cast<float>(state_.x_dot);
    out[2] = static_cast<float>(state_.theta);
    out[3] = static_cast<float>(state_.theta_dot);
  }

  classic::CartPoleState state_;
};

EnvEntry cartpole_entry() {
  return entry_from_spec({{"max_episode_steps",
                           int64_t{500},
                           "Truncate episodes after this many steps",
                           1.0,
                           1e9,
                           {}}},
                         cartpole_spec,
                         [](const Params& p) { return std::make_unique<CartPole>(p); });
}

RLCADE_REGISTER_ENV(cartpole_entry());
// Cart position and pole angle only (RL Zoo's CartPoleNoVel): a memoryless policy cannot tell
// which way the pole is falling.
RLCADE_REGISTER_ENV(classic::observation_subset_entry(
    cartpole_entry(), "classic/cartpole-novel-v1",
    "CartPole-v1 observing cart position and pole angle only, no velocities (a POMDP)", {0, 2}));

}  // namespace
}  // namespace rl
