// Car model of the racetrack: a kinematic bicycle for yaw plus tyre grip limited by a friction
// circle. Heading turns with the front-wheel angle; the tyres then pull the velocity towards the
// new heading, but the total tyre acceleration (driving/braking plus lateral correction) is
// capped at mu * g, so cornering too fast slides the car outwards and braking while turning
// costs grip. The car cannot reverse: braking stops it.
#pragma once

#include "envs/driving/geometry.h"

namespace rl::driving {

struct CarParams {
  double wheelbase = 2.6;            // [m]
  double length = 4.4;               // Body length for drawing [m].
  double width = 1.9;                // Body width for drawing [m].
  double max_steer = 0.45;           // Largest front-wheel angle [rad].
  double steer_rate = 3.0;           // How fast the wheels turn towards the command [rad/s].
  double engine_accel = 9.0;         // Full-throttle acceleration at rest [m/s^2].
  double top_speed = 45.0;           // Engine acceleration falls linearly to 0 here [m/s].
  double brake_decel = 14.0;         // Full-brake deceleration before the grip limit [m/s^2].
  double grip = 9.81;                // Friction-circle radius mu * g [m/s^2].
  double rolling_resistance = 0.15;  // Constant deceleration while moving [m/s^2].
  double drag = 0.0015;              // Quadratic drag coefficient [1/m].
};

struct CarState {
  Vec2 position;
  double heading = 0.0;  // [rad], counter-clockwise from +x.
  Vec2 velocity;         // World frame [m/s].
  double steer = 0.0;    // Current front-wheel angle [rad], positive turns left.

  Vec2 forward() const { return unit(heading); }
  double forward_speed() const { return dot(velocity, forward()); }
  double lateral_speed() const { return dot(velocity, perp(forward())); }
};

// Advances the car by dt. steer_command in [-1, 1] (positive left), pedal in [-1, 1]:
// positive is throttle, negative is brake.
void step_car(CarState& car, const CarParams& params, double steer_command, double pedal,
              double dt);

}  // namespace rl::driving
