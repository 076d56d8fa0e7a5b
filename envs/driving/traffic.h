// Multi-lane straight-road traffic with the behaviour models of Farama's highway-env:
// IDM car following (Treiber et al. 2000) and MOBIL lane changes (Kesting et al. 2007) for
// traffic, a proportional speed/lane controller for the ego vehicle, kinematic bicycle motion
// and rectangle collisions. Lane 0 is the leftmost; y grows to the right (lane index * width).
#pragma once

#include <utility>
#include <vector>

#include "core/rng.h"

namespace rl::driving {

constexpr double kVehicleLength = 5.0;  // [m]
constexpr double kVehicleWidth = 2.0;   // [m]
constexpr double kVehicleMaxSpeed = 40.0;

struct IdmParams {
  double acc_max = 6.0;           // Hard limit on the commanded acceleration [m/s^2].
  double comfort_acc_max = 3.0;   // a [m/s^2]
  double comfort_acc_min = -5.0;  // -b [m/s^2]
  double distance_wanted = 5.0 + kVehicleLength;  // Jam distance between centres s0 [m].
  double time_wanted = 1.5;                       // Time headway T [s].
};

struct MobilParams {
  double politeness = 0.0;           // Weight of the other drivers' gains, in [0, 1].
  double min_acc_gain = 0.2;         // Required advantage to change lane [m/s^2].
  double max_braking_imposed = 2.0;  // Safety: largest braking forced on the new follower.
  double lane_change_delay = 1.0;    // Seconds between lane-change decisions.
};

struct Vehicle {
  double x = 0.0, y = 0.0;  // Centre [m].
  double heading = 0.0;     // [rad], 0 along the road.
  double speed = 0.0;       // [m/s]
  int lane = 0;             // Closest lane.
  int target_lane = 0;      // Lane the lateral controller steers to.
  double target_speed = 0.0;
  double delta = 4.0;  // IDM acceleration exponent (randomised per vehicle).
  double timer = 0.0;  // Time since the last lane-change decision [s].
  bool crashed = false;
  bool controlled = false;  // Ego: follows target_lane/target_speed, no IDM/MOBIL.
  double steering = 0.0, acceleration = 0.0;  // Last commands.

  double vx() const;
  double vy() const;
};

class Traffic {
 public:
  Traffic(int lanes, double lane_width, double speed_limit);

  int lanes() const { return lanes_; }
  double lane_width() const { return lane_width_; }
  double lane_y(int lane) const { return lane * lane_width_; }
  int closest_lane(double y) const;
  // highway-env's on_lane with a 1 m margin: within half a lane width + 1 m of the centre.
  bool on_lane(double y, int lane) const;

  std::vector<Vehicle>& vehicles() { return vehicles_; }
  const std::vector<Vehicle>& vehicles() const { return vehicles_; }
  IdmParams idm;
  MobilParams mobil;

  // IDM acceleration of `ego` behind `front` (either may be null: no ego gives 0, no front the
  // free-road term). The target speed is capped at the speed limit.
  double idm_acceleration(const Vehicle* ego, const Vehicle* front) const;
  double desired_gap(const Vehicle& ego, const Vehicle& front) const;
  // Nearest vehicles ahead (x >= ego x) and behind on `lane`, or null. Needs sort() first.
  std::pair<const Vehicle*, const Vehicle*> neighbours(int index, int lane) const;
  // MOBIL: may vehicle `index` move to `lane`? (safety for the new follower, then incentive)
  bool mobil_accepts(int index, int lane) const;

  // Orders vehicles by x for the neighbour queries; call after adding or moving vehicles.
  void sort();
  // One simulation step: every vehicle decides (IDM + MOBIL, or the ego controller), moves by
  // the kinematic bicycle model, then overlapping vehicles are marked crashed.
  void step(double dt);

 private:
  void decide(int index);
  void change_lane_policy(int index);
  double steering_to_lane(const Vehicle& v) const;
  // The free-road IDM term (v / v0)^delta, the costly part of idm_acceleration.
  double free_road_power(const Vehicle& v) const;
  // The `first` of neighbours() alone.
  const Vehicle* front_on_lane(int index, int lane) const;
  void check_collisions();

  int lanes_;
  double lane_width_;
  double speed_limit_;
  std::vector<Vehicle> vehicles_;
  std::vector<int> order_;  // Vehicle indices sorted by x.
  std::vector<int> rank_;   // Position of each vehicle in order_.
  // free_road_power of each vehicle while step() lets them decide; empty otherwise.
  std::vector<double> free_road_cache_;
};

// True when the two vehicles' rectangles overlap (separating axis test).
bool vehicles_overlap(const Vehicle& a, const Vehicle& b);

}  // namespace rl::driving
