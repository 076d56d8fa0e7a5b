#include "envs/driving/car.h"

#include <algorithm>
#include <cmath>

namespace rl::driving {

void step_car(CarState& car, const CarParams& params, double steer_command, double pedal,
              double dt) {
  const double target_steer = std::clamp(steer_command, -1.0, 1.0) * params.max_steer;
  const double max_turn = params.steer_rate * dt;
  car.steer += std::clamp(target_steer - car.steer, -max_turn, max_turn);

  const double yaw_rate = car.forward_speed() * std::tan(car.steer) / params.wheelbase;
  car.heading = wrap_angle(car.heading + yaw_rate * dt);

  // Velocity in the new body frame.
  const Vec2 forward = car.forward(), left = perp(forward);
  double v_long = dot(car.velocity, forward);
  double v_lat = dot(car.velocity, left);

  double a_long = 0.0;
  if (pedal > 0.0) {
    a_long = pedal * params.engine_accel * std::max(0.0, 1.0 - v_long / params.top_speed);
  } else if (pedal < 0.0 && v_long != 0.0) {
    const double stop_decel = std::abs(v_long) / dt;
    a_long = -std::copysign(std::min(-pedal * params.brake_decel, stop_decel), v_long);
  }
  double a_lat = -v_lat / dt;  // What the tyres would need to remove all sideways motion.
  const double demand = std::sqrt(a_long * a_long + a_lat * a_lat);
  if (demand > params.grip) {
    a_long *= params.grip / demand;
    a_lat *= params.grip / demand;
  }

  const double resistance = params.rolling_resistance + params.drag * v_long * v_long;
  double new_long = v_long + a_long * dt;
  const double slowed = std::max(0.0, std::abs(new_long) - resistance * dt);
  new_long = std::copysign(slowed, new_long);
  // No reverse gear: braking or resistance never pushes a forward-moving car backwards.
  if (v_long >= 0.0 && new_long < 0.0) new_long = 0.0;
  v_lat += a_lat * dt;

  car.velocity = forward * new_long + left * v_lat;
  car.position += car.velocity * dt;
}

}  // namespace rl::driving
