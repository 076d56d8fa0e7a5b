// driving/highway-v0: the ego car on a multi-lane highway among IDM/MOBIL traffic, following
// Farama's highway-env (highway-v0 defaults): 5 meta-actions (LANE_LEFT, IDLE, LANE_RIGHT,
// FASTER, SLOWER; target speeds 20/25/30 m/s), one decision per second over 15 simulation
// steps, 40 s episodes, collision terminates, reward for speed in [20, 30] m/s and the
// rightmost lanes normalised to [0, 1].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/params.h"
#include "envs/driving/traffic.h"

namespace rl::driving {

enum class HighwayObservation { kKinematics, kOccupancy };

struct HighwayConfig {
  HighwayObservation observation = HighwayObservation::kKinematics;
  int observed_vehicles = 5;  // Rows of the kinematics observation (ego first).
  int lanes = 4;
  int vehicles = 50;     // Traffic vehicles besides the ego.
  double density = 1.0;  // Higher packs traffic closer.
  double ego_spacing = 2.0;
  int simulation_frequency = 15;  // [Hz]
  int policy_frequency = 1;       // [Hz]
  double duration = 40.0;         // Episode time limit [s].
  double politeness = 0.0;        // MOBIL politeness of traffic.
  double collision_reward = -1.0;
  double right_lane_reward = 0.1;
  double high_speed_reward = 0.4;
  double reward_speed_low = 20.0, reward_speed_high = 30.0;
  bool normalize_reward = true;
};

std::vector<ParamSpec> highway_params();
HighwayConfig highway_config(const Params& params);

class Highway final : public Env {
 public:
  enum MetaAction { kLaneLeft = 0, kIdle = 1, kLaneRight = 2, kFaster = 3, kSlower = 4 };
  static constexpr double kTargetSpeeds[3] = {20.0, 25.0, 30.0};
  static constexpr double kLaneWidth = 4.0;
  static constexpr double kSpeedLimit = 30.0;

  explicit Highway(const HighwayConfig& config);

  const Traffic& traffic() const { return traffic_; }
  // For tests that stage a situation (vehicle 0 is the ego); call traffic.sort() afterwards.
  Traffic& traffic_for_testing() { return traffic_; }
  const Vehicle& ego() const { return traffic_.vehicles()[0]; }
  const HighwayConfig& config() const { return config_; }
  // Writes the observation of the current state (after staging a situation in tests).
  void observe(ObsBuffer obs) const;

 protected:
  void do_reset(ObsBuffer obs) override;
  StepResult do_step(const Action& action, ObsBuffer obs) override;
  void do_render(Image& out) const override;

 private:
  void apply_meta_action(int64_t action);
  float reward() const;
  void write_kinematics(float* out) const;
  void write_occupancy(float* out) const;

  HighwayConfig config_;
  Traffic traffic_;
};

}  // namespace rl::driving
