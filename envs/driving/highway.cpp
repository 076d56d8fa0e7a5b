#include "envs/driving/highway.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "core/registry.h"
#include "envs/driving/font.h"
#include "envs/driving/geometry.h"

namespace rl::driving {
namespace {

// highway-env's observation scales: PERCEPTION_DISTANCE = 5 * MAX_SPEED, features_range.
constexpr double kPerception = 5.0 * kVehicleMaxSpeed;
constexpr double kSpeedRange = 2.0 * kVehicleMaxSpeed;
// Occupancy grid: 11 x 11 cells of 5 m around the ego; layers presence, vx, vy, on_road.
constexpr int kGridCells = 11;
constexpr double kGridStep = 5.0;
constexpr double kGridHalf = 0.5 * kGridCells * kGridStep;
constexpr int kGridLayers = 4;
constexpr int kKinematicFeatures = 5;

double lmap(double v, double x0, double x1, double y0, double y1) {
  return y0 + (v - x0) * (y1 - y0) / (x1 - x0);
}
float unit_clip(double v) { return static_cast<float>(std::clamp(v, -1.0, 1.0)); }

EnvSpec highway_spec(const HighwayConfig& c) {
  EnvSpec spec;
  spec.id = "driving/highway-v0";
  spec.description =
      "Drive fast on a multi-lane highway among IDM/MOBIL traffic without crashing (highway-env)";
  if (c.observation == HighwayObservation::kKinematics) {
    spec.observation_space =
        Space::box({c.observed_vehicles, kKinematicFeatures}, -1.f, 1.f, DType::kF32);
  } else {
    spec.observation_space =
        Space::box({kGridLayers, kGridCells, kGridCells}, -1.f, 1.f, DType::kF32);
  }
  spec.action_space = Space::discrete(5);
  spec.action_names = {"lane_left", "idle", "lane_right", "faster", "slower"};
  if (c.normalize_reward) {
    spec.reward_min = 0.f;
    spec.reward_max = 1.f;
  } else {
    spec.reward_min = static_cast<float>(c.collision_reward);
    spec.reward_max = static_cast<float>(c.right_lane_reward + c.high_speed_reward);
  }
  spec.max_episode_steps = static_cast<int64_t>(std::lround(c.duration * c.policy_frequency));
  return spec;
}

// highway-env's MDPVehicle.speed_to_index over kTargetSpeeds.
int speed_index(double speed) {
  const double lo = Highway::kTargetSpeeds[0], hi = Highway::kTargetSpeeds[2];
  return std::clamp(static_cast<int>(std::lround((speed - lo) / (hi - lo) * 2.0)), 0, 2);
}

}  // namespace

std::vector<ParamSpec> highway_params() {
  return {
      {"observation",
       std::string("kinematics"),
       "kinematics: f32 [V, 5] rows (presence, x, y, vx, vy) of the ego and its V-1 nearest "
       "vehicles, ego-relative, normalised; occupancy: f32 [4, 11, 11] grid (presence, vx, vy, "
       "on_road) of 5 m cells around the ego",
       std::nullopt,
       std::nullopt,
       {"kinematics", "occupancy"}},
      {"observed_vehicles", int64_t{5}, "Rows V of the kinematics observation", 1.0, 50.0, {}},
      {"lanes", int64_t{4}, "Number of lanes", 2.0, 8.0, {}},
      {"vehicles", int64_t{50}, "Traffic vehicles besides the ego", 0.0, 200.0, {}},
      {"density",
       1.0,
       "Traffic density (spacing between vehicles scales with 1/density)",
       0.1,
       5.0,
       {}},
      {"duration", 40.0, "Episode time limit [s]", 1.0, 3600.0, {}},
      {"policy_frequency", int64_t{1}, "Decisions per second", 1.0, 15.0, {}},
      {"simulation_frequency", int64_t{15}, "Simulation steps per second", 1.0, 120.0, {}},
      {"politeness", 0.0, "MOBIL politeness of the traffic", 0.0, 1.0, {}},
      {"collision_reward", -1.0, "Reward weight of a collision", -100.0, 0.0, {}},
      {"right_lane_reward", 0.1, "Reward weight of driving in the rightmost lane", 0.0, 100.0, {}},
      {"high_speed_reward",
       0.4,
       "Reward weight of full speed (30 m/s, linear from 20)",
       0.0,
       100.0,
       {}},
      {"normalize_reward",
       true,
       "Map the reward to [0, 1] as highway-env does",
       std::nullopt,
       std::nullopt,
       {}},
  };
}

HighwayConfig highway_config(const Params& p) {
  HighwayConfig c;
  c.observation = p.get_string("observation") == "occupancy" ? HighwayObservation::kOccupancy
                                                             : HighwayObservation::kKinematics;
  c.observed_vehicles = static_cast<int>(p.get_int("observed_vehicles"));
  c.lanes = static_cast<int>(p.get_int("lanes"));
  c.vehicles = static_cast<int>(p.get_int("vehicles"));
  c.density = p.get_float("density");
  c.duration = p.get_float("duration");
  c.policy_frequency = static_cast<int>(p.get_int("policy_frequency"));
  c.simulation_frequency = static_cast<int>(p.get_int("simulation_frequency"));
  c.politeness = p.get_float("politeness");
  c.collision_reward = p.get_float("collision_reward");
  c.right_lane_reward = p.get_float("right_lane_reward");
  c.high_speed_reward = p.get_float("high_speed_reward");
  c.normalize_reward = p.get_bool("normalize_reward");
  if (c.simulation_frequency % c.policy_frequency != 0)
    throw std::invalid_argument(
        "driving/highway: simulation_frequency " + std::to_string(c.simulation_frequency) +
        " must be a multiple of policy_frequency " + std::to_string(c.policy_frequency));
  if (c.normalize_reward && c.right_lane_reward + c.high_speed_reward <= c.collision_reward)
    throw std::invalid_argument(
        "driving/highway: normalize_reward needs right_lane_reward + high_speed_reward > "
        "collision_reward");
  return c;
}

Highway::Highway(const HighwayConfig& config)
    : Env(highway_spec(config)), config_(config), traffic_(config.lanes, kLaneWidth, kSpeedLimit) {
  traffic_.mobil.politeness = config.politeness;
}

void Highway::do_reset(ObsBuffer obs) {
  // Placement as highway-env's Vehicle.create_random: each vehicle goes a random distance
  // ahead of the frontmost one, on a random lane.
  auto& vehicles = traffic_.vehicles();
  vehicles.clear();
  const double lane_factor = std::exp(-5.0 / 40.0 * config_.lanes);
  Vehicle ego;
  ego.controlled = true;
  ego.speed = 25.0;
  ego.target_speed = kTargetSpeeds[speed_index(ego.speed)];
  ego.lane = ego.target_lane = static_cast<int>(rng().below(config_.lanes));
  ego.y = traffic_.lane_y(ego.lane);
  const double ego_offset = config_.ego_spacing * (12.0 + ego.speed) * lane_factor;
  ego.x = 3.0 * ego_offset + ego_offset * rng().uniform(0.9, 1.1);
  vehicles.push_back(ego);
  double front_x = ego.x;
  for (int i = 0; i < config_.vehicles; ++i) {
    Vehicle v;
    v.lane = v.target_lane = static_cast<int>(rng().below(config_.lanes));
    v.y = traffic_.lane_y(v.lane);
    v.speed = v.target_speed = rng().uniform(0.7 * kSpeedLimit, 0.8 * kSpeedLimit);
    const double offset = (12.0 + v.speed) * lane_factor / config_.density;
    front_x += offset * rng().uniform(0.9, 1.1);
    v.x = front_x;
    v.delta = rng().uniform(3.5, 4.5);
    v.timer = rng().uniform(0.0, traffic_.mobil.lane_change_delay);
    vehicles.push_back(v);
  }
  traffic_.sort();
  observe(obs);
}

void Highway::apply_meta_action(int64_t action) {
  Vehicle& ego = traffic_.vehicles()[0];
  switch (action) {
    case kFaster:
    case kSlower: {
      const int index = std::clamp(speed_index(ego.speed) + (action == kFaster ? 1 : -1), 0, 2);
      ego.target_speed = kTargetSpeeds[index];
      break;
    }
    case kLaneLeft:
    case kLaneRight: {
      const int lane =
          std::clamp(ego.target_lane + (action == kLaneRight ? 1 : -1), 0, config_.lanes - 1);
      if (std::abs(ego.y - traffic_.lane_y(lane)) <= 2.0 * kLaneWidth) ego.target_lane = lane;
      break;
    }
    default:
      break;
  }
}

StepResult Highway::do_step(const Action& action, ObsBuffer obs) {
  apply_meta_action(action.index);
  const int frames = config_.simulation_frequency / config_.policy_frequency;
  const double dt = 1.0 / config_.simulation_frequency;
  for (int f = 0; f < frames; ++f) traffic_.step(dt);
  observe(obs);
  StepResult result;
  result.reward = reward();
  result.terminated = ego().crashed;
  return result;
}

float Highway::reward() const {
  const Vehicle& e = ego();
  const double scaled_speed =
      lmap(e.vx(), config_.reward_speed_low, config_.reward_speed_high, 0.0, 1.0);
  double r = config_.collision_reward * (e.crashed ? 1.0 : 0.0) +
             config_.right_lane_reward * e.target_lane / std::max(config_.lanes - 1, 1) +
             config_.high_speed_reward * std::clamp(scaled_speed, 0.0, 1.0);
  if (config_.normalize_reward)
    r = lmap(r, config_.collision_reward, config_.high_speed_reward + config_.right_lane_reward,
             0.0, 1.0);
  return static_cast<float>(r);
}

void Highway::observe(ObsBuffer obs) const {
  if (config_.observation == HighwayObservation::kKinematics) {
    write_kinematics(as_f32(obs));
  } else {
    write_occupancy(as_f32(obs));
  }
}

void Highway::write_kinematics(float* out) const {
  const int rows = config_.observed_vehicles;
  std::fill(out, out + rows * kKinematicFeatures, 0.f);
  const double y_range = kLaneWidth * config_.lanes;
  auto write_row = [&](float* row, double x, double y, double vx, double vy) {
    row[0] = 1.f;
    row[1] = unit_clip(x / kPerception);
    row[2] = unit_clip(y / y_range);
    row[3] = unit_clip(vx / kSpeedRange);
    row[4] = unit_clip(vy / kSpeedRange);
  };
  const Vehicle& e = ego();
  write_row(out, e.x, e.y, e.vx(), e.vy());  // The ego row is absolute, as in highway-env.

  // The rows-1 vehicles closest along the road, in perception range, not far behind.
  std::array<std::pair<double, int>, 64> nearest;
  int found = 0;
  const auto& vehicles = traffic_.vehicles();
  const int wanted = std::min(rows - 1, static_cast<int>(nearest.size()));
  for (int i = 1; i < static_cast<int>(vehicles.size()); ++i) {
    const Vehicle& v = vehicles[i];
    const double dx = v.x - e.x;
    if (dx <= -2.0 * kVehicleLength || std::hypot(dx, v.y - e.y) >= kPerception) continue;
    const std::pair<double, int> key{std::abs(dx), i};
    if (found == wanted && !(key < nearest[found - 1])) continue;
    int pos = found < wanted ? found++ : found - 1;
    while (pos > 0 && key < nearest[pos - 1]) {
      nearest[pos] = nearest[pos - 1];
      --pos;
    }
    nearest[pos] = key;
  }
  for (int k = 0; k < found; ++k) {
    const Vehicle& v = vehicles[nearest[k].second];
    write_row(out + (k + 1) * kKinematicFeatures, v.x - e.x, v.y - e.y, v.vx() - e.vx(),
              v.vy() - e.vy());
  }
}

void Highway::write_occupancy(float* out) const {
  constexpr int kLayer = kGridCells * kGridCells;
  std::fill(out, out + kGridLayers * kLayer, 0.f);
  const Vehicle& e = ego();
  auto cell = [](double dx, double dy) {
    const int ix = static_cast<int>(std::floor((dx + kGridHalf) / kGridStep));
    const int iy = static_cast<int>(std::floor((dy + kGridHalf) / kGridStep));
    if (ix < 0 || ix >= kGridCells || iy < 0 || iy >= kGridCells) return -1;
    return ix * kGridCells + iy;
  };
  const auto& vehicles = traffic_.vehicles();
  // Later vehicles first so that earlier ones (the ego first of all) win shared cells.
  for (int i = static_cast<int>(vehicles.size()) - 1; i >= 0; --i) {
    const Vehicle& v = vehicles[i];
    const int c = cell(v.x - e.x, v.y - e.y);
    if (c < 0) continue;
    out[c] = 1.f;
    out[kLayer + c] = unit_clip((v.vx() - e.vx()) / kSpeedRange);
    out[2 * kLayer + c] = unit_clip((v.vy() - e.vy()) / kSpeedRange);
  }
  // Lane centres 100 m either side, sampled every grid step.
  for (int lane = 0; lane < config_.lanes; ++lane)
    for (double dx = -100.0; dx < 100.0; dx += kGridStep) {
      const int c = cell(dx, traffic_.lane_y(lane) - e.y);
      if (c >= 0) out[3 * kLayer + c] = 1.f;
    }
}

void Highway::do_render(Image& out) const {
  constexpr int kWidth = 800, kTop = 40;
  constexpr double kScale = 5.0;  // Pixels per metre.
  const double road_px = config_.lanes * kLaneWidth * kScale;
  out.resize(kWidth, static_cast<int>(road_px) + 2 * kTop, {60, 130, 60});
  const Vehicle& e = ego();
  const double left_x = e.x - 40.0;
  auto px = [&](double x) { return static_cast<float>((x - left_x) * kScale); };
  auto py = [&](double y) { return static_cast<float>(kTop + (y + 0.5 * kLaneWidth) * kScale); };

  fill_rect(out, 0, kTop, kWidth, static_cast<int>(road_px), {95, 95, 95});
  for (int b = 0; b <= config_.lanes; ++b) {
    const float y = py((b - 0.5) * kLaneWidth);
    if (b == 0 || b == config_.lanes) {
      draw_line(out, 0, y, kWidth, y, 2.f, {240, 240, 240});
      continue;
    }
    // Dashes anchored to the road: 3 m painted every 9 m.
    for (double x = std::floor(left_x / 9.0) * 9.0; x < left_x + kWidth / kScale; x += 9.0)
      draw_line(out, px(x), y, px(x + 3.0), y, 1.5f, {230, 230, 230});
  }
  for (size_t i = 0; i < traffic_.vehicles().size(); ++i) {
    const Vehicle& v = traffic_.vehicles()[i];
    if (px(v.x) < -40 || px(v.x) > kWidth + 40) continue;
    const Vec2 c{v.x, v.y}, f = unit(v.heading) * (0.5 * kVehicleLength),
                            l = perp(unit(v.heading)) * (0.5 * kVehicleWidth);
    const Vec2 corners[4] = {c + f + l, c + f - l, c - f - l, c - f + l};
    std::vector<float> xy;
    for (const Vec2& k : corners) xy.push_back(px(k.x)), xy.push_back(py(k.y));
    const Color color = v.crashed ? Color{230, 40, 40}
                        : i == 0  ? Color{60, 220, 60}
                                  : Color{90, 170, 240};
    fill_polygon(out, xy, color);
    if (i == 0) {  // Outline the ego.
      for (int k = 0; k < 4; ++k)
        draw_line(out, xy[2 * k], xy[2 * k + 1], xy[(2 * k + 2) % 8], xy[(2 * k + 3) % 8], 1.5f,
                  {255, 255, 255});
    }
  }
  char line[80];
  std::snprintf(line, sizeof line, "T %.0f S  SPEED %.1f M/S  LANE %d%s",
                static_cast<double>(episode_steps()) / config_.policy_frequency, e.speed,
                e.target_lane, e.crashed ? "  CRASH" : "");
  draw_text(out, 8, 10, line, 3, {255, 255, 255});
}

RLCADE_REGISTER_ENV(entry_from_spec(
    highway_params(), [](const Params& p) { return highway_spec(highway_config(p)); },
    [](const Params& p) { return std::make_unique<Highway>(highway_config(p)); }));

}  // namespace rl::driving
