// MountainCar-v0 (discrete: push left, no push, push right; -1 per step until the car reaches
// position 0.5) and MountainCarContinuous-v0 (a force in [-1, 1]; -0.1 * force^2 per step and
// +100 on reaching position 0.45), with Gymnasium's dynamics (envs/classic/dynamics.h).
// Both start at a uniform position in [-0.6, -0.4] with zero velocity.
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "core/registry.h"
#include "envs/classic/dynamics.h"

namespace rl {
namespace {

constexpr double kMinPosition = -1.2, kMaxPosition = 0.6;

Space mountain_car_observation_space() {
  return Space::box({2}, {-1.2f, -0.07f}, {0.6f, 0.07f}, DType::kF32);
}

// Draws the valley, the car and the goal flag as Gymnasium's renderer does (600 x 400).
void draw_mountain_car(Image& out, double position, double goal_position) {
  const int width = 600, height = 400;
  out.resize(width, height, {255, 255, 255});
  const double scale = width / (kMaxPosition - kMinPosition);
  auto hill = [](double x) { return std::sin(3 * x) * 0.45 + 0.55; };
  // Gymnasium draws with y up; flip to image rows.
  auto to_px = [&](double x_px, double y_px) {
    return std::pair<float, float>(x_px, height - y_px);
  };
  for (int i = 0; i < 99; ++i) {
    const double x0 = kMinPosition + (kMaxPosition - kMinPosition) * i / 99.0;
    const double x1 = kMinPosition + (kMaxPosition - kMinPosition) * (i + 1) / 99.0;
    const auto [ax, ay] = to_px((x0 - kMinPosition) * scale, hill(x0) * scale);
    const auto [bx, by] = to_px((x1 - kMinPosition) * scale, hill(x1) * scale);
    draw_line(out, ax, ay, bx, by, 2.f, {0, 0, 0});
  }
  const double angle = std::cos(3 * position);
  const double base_x = (position - kMinPosition) * scale;
  const double base_y = 10 + hill(position) * scale;  // 10 px clearance above the track.
  auto car_point = [&](double cx, double cy) {
    return to_px(base_x + cx * std::cos(angle) - cy * std::sin(angle),
                 base_y + cx * std::sin(angle) + cy * std::cos(angle));
  };
  std::vector<float> body;
  for (auto [cx, cy] : {std::pair{-20.0, 0.0}, {-20.0, 20.0}, {20.0, 20.0}, {20.0, 0.0}}) {
    const auto [px, py] = car_point(cx, cy);
    body.push_back(px);
    body.push_back(py);
  }
  fill_polygon(out, body, {0, 0, 0});
  for (double wheel : {10.0, -10.0}) {
    const auto [px, py] = car_point(wheel, 0);
    fill_circle(out, px, py, 8.f, {128, 128, 128});
  }
  const double flag_x = (goal_position - kMinPosition) * scale;
  const double pole_bottom = hill(goal_position) * scale;
  const auto [fx, fy0] = to_px(flag_x, pole_bottom);
  const auto [unused, fy1] = to_px(flag_x, pole_bottom + 50);
  (void)unused;
  draw_line(out, fx, fy0, fx, fy1, 1.f, {0, 0, 0});
  fill_triangle(out, fx, fy1, fx, fy1 + 10, fx + 25, fy1 + 5, {204, 204, 0});
}

// What both cars share: the state, the start distribution, the goal test, the observation
// and the picture. Subclasses give the spec and the step.
class MountainCarBase : public Env {
 protected:
  MountainCarBase(EnvSpec spec, const Params& p, double goal_position)
      : Env(std::move(spec)),
        goal_position_(goal_position),
        goal_velocity_(p.get_float("goal_velocity")) {}

  void do_reset(ObsBuffer obs) override {
    state_ = {rng().uniform(-0.6, -0.4), 0.0};
    write(obs);
  }

  void do_render(Image& out) const override {
    draw_mountain_car(out, state_.position, goal_position_);
  }

  bool at_goal() const {
    return state_.position >= goal_position_ && state_.velocity >= goal_velocity_;
  }

  void write(ObsBuffer obs) const {
    float* out = as_f32(obs);
    out[0] = static_cast<float>(state_.position);
    out[1] = static_cast<float>(state_.velocity);
  }

  static EnvSpec base_spec(const char* id, const char* description, const Params& p) {
    EnvSpec spec;
    spec.id = id;
    spec.description = description;
    spec.observation_space = mountain_car_observation_space();
    spec.max_episode_steps = p.get_int("max_episode_steps");
    return spec;
  }

  classic::MountainCarState state_;

 private:
  double goal_position_;
  double goal_velocity_;
};

class MountainCar final : public MountainCarBase {
 public:
  explicit MountainCar(const Params& p) : MountainCarBase(make_spec(p), p, 0.5) {}

 protected:
  StepResult do_step(const Action& action, ObsBuffer obs) override {
    state_ = classic::mountain_car_step(state_, static_cast<int>(action.index));
    write(obs);
    StepResult r;
    r.reward = -1.f;
    r.terminated = at_goal();
    return r;
  }

 public:
  static EnvSpec make_spec(const Params& p) {
    EnvSpec spec = base_spec(
        "classic/mountaincar-v0",
        "Drive an underpowered car up a hill by rocking it (Gymnasium MountainCar-v0)", p);
    spec.action_space = Space::discrete(3);
    spec.reward_min = -1.f;
    spec.reward_max = -1.f;
    spec.reward_threshold = -110.0;
    spec.action_names = {"push left", "no push", "push right"};
    return spec;
  }
};

class ContinuousMountainCar final : public MountainCarBase {
 public:
  explicit ContinuousMountainCar(const Params& p) : MountainCarBase(make_spec(p), p, 0.45) {}

 protected:
  StepResult do_step(const Action& action, ObsBuffer obs) override {
    const double force = action.values[0];
    state_ = classic::continuous_mountain_car_step(state_, force);
    write(obs);
    StepResult r;
    r.terminated = at_goal();
    r.reward = static_cast<float>((r.terminated ? 100.0 : 0.0) - force * force * 0.1);
    return r;
  }

 public:
  static EnvSpec make_spec(const Params& p) {
    EnvSpec spec = base_spec(
        "classic/mountaincar_continuous-v0",
        "Drive a car up a hill with a continuous force (Gymnasium MountainCarContinuous-v0)", p);
    spec.action_space = Space::box({1}, -1.f, 1.f, DType::kF32);
    spec.reward_min = -0.1f;
    spec.reward_max = 100.f;
    spec.reward_threshold = 90.0;
    return spec;
  }
};

std::vector<ParamSpec> mountain_car_params(int64_t max_steps) {
  return {
      {"max_episode_steps", max_steps, "Truncate episodes after this many steps", 1.0, 1e9, {}},
      {"goal_velocity",
       0.0,
       "Minimum velocity at the goal position for the episode to end (Gymnasium's goal_velocity)",
       -0.07,
       0.07,
       {}}};
}

RLCADE_REGISTER_ENV(entry_from_spec(mountain_car_params(200), MountainCar::make_spec,
                                    [](const Params& p) {
                                      return std::make_unique<MountainCar>(p);
                                    }));
RLCADE_REGISTER_ENV(entry_from_spec(mountain_car_params(999), ContinuousMountainCar::make_spec,
                                    [](const Params& p) {
                                      return std::make_unique<ContinuousMountainCar>(p);
                                    }));

}  // namespace
}  // namespace rl
