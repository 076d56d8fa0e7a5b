#include "envs/driving/racetrack.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "core/registry.h"

namespace rl::driving {
namespace {

constexpr double kMaxProgressReward = 50.0;  // Per-step clamp; only a teleport could reach it.
constexpr size_t kTrailCapacity = 4096;

int vector_size(const RacetrackConfig& c) { return c.rays + 5 + c.curvature_samples; }

Space observation_space(const RacetrackConfig& c) {
  if (c.observation == RaceObservation::kImage)
    return Space::box({c.image_channels, c.image_size, c.image_size}, 0.f, 255.f, DType::kU8);
  std::vector<float> low, high;
  for (int i = 0; i < c.rays; ++i) low.push_back(0.f), high.push_back(1.f);
  for (float bound : {1.f, 1.f, 2.f, 1.f, 1.f}) low.push_back(-bound), high.push_back(bound);
  for (int i = 0; i < c.curvature_samples; ++i) low.push_back(-1.f), high.push_back(1.f);
  return Space::box({vector_size(c)}, low, high, DType::kF32);
}

EnvSpec racetrack_spec(const RacetrackConfig& c) {
  EnvSpec spec;
  spec.id = c.discrete ? "driving/racetrack_discrete-v0" : "driving/racetrack-v0";
  spec.description = c.discrete
                         ? "Drive a lap of a random closed track (5 actions: noop, left, right, "
                           "gas, brake); a lap is worth 1000"
                         : "Drive a lap of a random closed track with continuous [steer, "
                           "throttle/brake]; a lap is worth 1000";
  spec.observation_space = observation_space(c);
  spec.action_space = c.discrete ? Space::discrete(Racetrack::kNumDiscreteActions)
                                 : Space::box({2}, -1.f, 1.f, DType::kF32);
  spec.reward_min =
      static_cast<float>(-(kMaxProgressReward + c.time_penalty + c.off_track_penalty));
  spec.reward_max = static_cast<float>(kMaxProgressReward);
  spec.max_episode_steps = c.max_episode_steps;
  spec.reward_threshold = 900.0;
  if (c.discrete) spec.action_names = {"noop", "left", "right", "gas", "brake"};
  return spec;
}

Track initial_track(const RacetrackConfig& c) {
  Rng track_rng(c.track_seed >= 0 ? static_cast<uint64_t>(c.track_seed) : 0);
  return Track::generate(track_rng, c.shape);
}

}  // namespace

std::vector<ParamSpec> racetrack_params() {
  return {
      {"observation",
       std::string("vector"),
       "vector: f32 rays, speed, heading error, offset, slip, wheel angle, curvature ahead; "
       "image: u8 car-centred heading-up top view",
       std::nullopt,
       std::nullopt,
       {"vector", "image"}},
      {"rays", int64_t{9}, "Number of range-finder rays over [-90, 90] degrees", 1.0, 64.0, {}},
      {"ray_range", 50.0, "Range of the rays [m]; distances are divided by it", 5.0, 500.0, {}},
      {"curvature_samples", int64_t{5}, "Upcoming curvature samples in the vector", 0.0, 32.0, {}},
      {"curvature_spacing", 10.0, "Distance between curvature samples [m]", 1.0, 100.0, {}},
      {"image_size", int64_t{64}, "Image observation height and width [px]", 16.0, 256.0, {}},
      {"image_color",
       std::string("gray"),
       "Image observation: gray (1 channel) or rgb (3)",
       std::nullopt,
       std::nullopt,
       {"gray", "rgb"}},
      {"image_view", 48.0, "Metres shown across the image observation", 10.0, 400.0, {}},
      {"track_seed",
       int64_t{-1},
       "-1: a new track each reset (unseen tracks); >= 0: fixed track",
       -1.0,
       9.0e15,
       {}},
      {"track_radius", 80.0, "Mean radius of the track's control points [m]", 20.0, 1000.0, {}},
      {"track_jitter", 0.6, "Relative random variation of the control point radii", 0.0, 0.8, {}},
      {"track_width", 12.0, "Track width [m]; at most track_radius / 2", 4.0, 100.0, {}},
      {"control_points", int64_t{12}, "Control points of the track spline", 4.0, 64.0, {}},
      {"grip", 9.81, "Tyre friction limit mu * g [m/s^2]", 1.0, 50.0, {}},
      {"dt", 0.05, "Simulation time step [s]", 0.005, 0.2, {}},
      {"off_track_penalty", 100.0, "Reward subtracted when the car leaves the track", 0.0, 1e6, {}},
      {"time_penalty", 0.1, "Reward subtracted every step", 0.0, 100.0, {}},
      {"max_episode_steps", int64_t{1000}, "Truncate episodes after this many steps", 1.0, 1e9, {}},
  };
}

RacetrackConfig racetrack_config(const Params& p, bool discrete) {
  RacetrackConfig c;
  c.discrete = discrete;
  c.observation =
      p.get_string("observation") == "image" ? RaceObservation::kImage : RaceObservation::kVector;
  c.rays = static_cast<int>(p.get_int("rays"));
  c.ray_range = p.get_float("ray_range");
  c.curvature_samples = static_cast<int>(p.get_int("curvature_samples"));
  c.curvature_spacing = p.get_float("curvature_spacing");
  c.image_size = static_cast<int>(p.get_int("image_size"));
  c.image_channels = p.get_string("image_color") == "rgb" ? 3 : 1;
  c.image_view = p.get_float("image_view");
  c.track_seed = p.get_int("track_seed");
  c.shape.radius = p.get_float("track_radius");
  c.shape.radius_jitter = p.get_float("track_jitter");
  c.shape.half_width = 0.5 * p.get_float("track_width");
  c.shape.control_points = static_cast<int>(p.get_int("control_points"));
  c.car.grip = p.get_float("grip");
  c.dt = p.get_float("dt");
  c.off_track_penalty = p.get_float("off_track_penalty");
  c.time_penalty = p.get_float("time_penalty");
  c.max_episode_steps = p.get_int("max_episode_steps");
  if (4.0 * c.shape.half_width > c.shape.radius)
    throw std::invalid_argument(
        "driving/racetrack: track_width " + std::to_string(2.0 * c.shape.half_width) +
        " must be at most track_radius / 2 = " + std::to_string(c.shape.radius / 2.0));
  return c;
}

Racetrack::Racetrack(const RacetrackConfig& config)
    : Env(racetrack_spec(config)),
      config_(config),
      track_(initial_track(config)),
      ray_hits_(static_cast<size_t>(config.rays), 0.f),
      trail_(kTrailCapacity) {
  for (int i = 0; i < config.rays; ++i) ray_directions_.push_back(unit(ray_angle(i)));
}

void Racetrack::discrete_controls(int64_t action, double& steer, double& pedal) {
  static constexpr double kSteer[kNumDiscreteActions] = {0.0, 1.0, -1.0, 0.0, 0.0};
  static constexpr double kPedal[kNumDiscreteActions] = {0.0, 0.0, 0.0, 1.0, -0.8};
  steer = kSteer[action];
  pedal = kPedal[action];
}

void Racetrack::do_reset(ObsBuffer obs) {
  if (config_.track_seed < 0) track_ = Track::generate(rng(), config_.shape);
  car_ = CarState{};
  car_.position = track_.centre(0);
  car_.heading = track_.heading(0);
  location_ = track_.locate(car_.position, 0);
  progress_ = 0.0;
  trail_count_ = trail_next_ = 0;
  push_trail();
  write_observation(obs);
}

StepResult Racetrack::do_step(const Action& action, ObsBuffer obs) {
  double steer = 0.0, pedal = 0.0;
  if (config_.discrete) {
    discrete_controls(action.index, steer, pedal);
  } else {
    steer = action.values[0];
    pedal = action.values[1];
  }
  step_car(car_, config_.car, steer, pedal, config_.dt);
  const double previous_s = location_.s;
  location_ = track_.locate(car_.position, location_.segment);
  const double length = track_.length();
  double ds = location_.s - previous_s;
  if (ds > 0.5 * length) ds -= length;
  if (ds < -0.5 * length) ds += length;

  const bool off_track = std::abs(location_.offset) > track_.half_width();
  const double credited = off_track ? ds : std::min(ds, length - progress_);
  progress_ += ds;

  StepResult result;
  result.reward = static_cast<float>(
      std::clamp(1000.0 * credited / length, -kMaxProgressReward, kMaxProgressReward) -
      config_.time_penalty);
  if (off_track) {
    result.reward -= static_cast<float>(config_.off_track_penalty);
    result.terminated = true;
  } else if (lap_complete()) {
    result.terminated = true;
  }
  push_trail();
  write_observation(obs);
  return result;
}

void Racetrack::push_trail() {
  trail_[trail_next_] = car_.position;
  trail_next_ = (trail_next_ + 1) % trail_.size();
  trail_count_ = std::min(trail_count_ + 1, trail_.size());
}

double Racetrack::ray_angle(int i) const {
  if (config_.rays == 1) return 0.0;
  return -0.5 * M_PI + M_PI * i / (config_.rays - 1);
}

void Racetrack::write_observation(ObsBuffer obs) {
  if (config_.observation == RaceObservation::kImage) {
    write_image(obs.data());
  } else {
    write_vector(as_f32(obs));
  }
}

void Racetrack::write_vector(float* out) {
  const double range = config_.ray_range;
  const Vec2 forward = car_.forward(), left = perp(forward);
  for (int i = 0; i < config_.rays; ++i) {
    const Vec2 dir = forward * ray_directions_[i].x + left * ray_directions_[i].y;
    const double d = track_.cast_ray(car_.position, dir, location_.segment, range);
    ray_hits_[i] = static_cast<float>(d);
    *out++ = static_cast<float>(d / range);
  }
  auto clamped = [](double v, double bound) {
    return static_cast<float>(std::clamp(v, -bound, bound));
  };
  *out++ = clamped(car_.forward_speed() / config_.car.top_speed, 1.0);
  *out++ = clamped(wrap_angle(car_.heading - location_.heading) / M_PI, 1.0);
  *out++ = clamped(location_.offset / track_.half_width(), 2.0);
  *out++ = clamped(car_.lateral_speed() / 10.0, 1.0);
  *out++ = clamped(car_.steer / config_.car.max_steer, 1.0);
  const double along = location_.s - track_.s(location_.segment);
  const double scale = 2.0 * track_.half_width();
  for (int k = 1; k <= config_.curvature_samples; ++k)
    *out++ = clamped(
        track_.curvature_ahead(location_.segment, along + k * config_.curvature_spacing) * scale,
        1.0);
}

namespace {

// One entry per action kind; the id and description come from racetrack_spec.
EnvEntry racetrack_entry(bool discrete) {
  return entry_from_spec(
      racetrack_params(),
      [discrete](const Params& p) { return racetrack_spec(racetrack_config(p, discrete)); },
      [discrete](const Params& p) {
        return std::make_unique<Racetrack>(racetrack_config(p, discrete));
      });
}

}  // namespace

RLCADE_REGISTER_ENV(racetrack_entry(false));
RLCADE_REGISTER_ENV(racetrack_entry(true));

}  // namespace rl::driving
