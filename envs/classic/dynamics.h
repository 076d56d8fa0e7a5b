// The physics of the classic-control envs as pure functions, with the equations and constants
// of Gymnasium's classic_control (cartpole.py, mountain_car.py, continuous_mountain_car.py,
// acrobot.py, pendulum.py). The envs step through these; tests check them from known states.
#pragma once

#include <array>

namespace rl::classic {

// CartPole: Euler integration with tau = 0.02 s, force +-10 N (action 1 pushes right).
struct CartPoleState {
  double x = 0, x_dot = 0, theta = 0, theta_dot = 0;
};
CartPoleState cartpole_step(const CartPoleState& s, int action);
// True once |x| > 2.4 or |theta| > 12 degrees.
bool cartpole_failed(const CartPoleState& s);

// MountainCar: position in [-1.2, 0.6], velocity in [-0.07, 0.07]; hitting the left wall
// stops the car (velocity 0).
struct MountainCarState {
  double position = 0, velocity = 0;
};
// Discrete actions: 0 push left, 1 no push, 2 push right (force 0.001, gravity 0.0025).
MountainCarState mountain_car_step(const MountainCarState& s, int action);
// Continuous force in [-1, 1] (clipped) times power 0.0015. Gymnasium keeps this state in
// float32 between steps, so the result is rounded to float.
MountainCarState continuous_mountain_car_step(const MountainCarState& s, double force);

// Acrobot (Sutton & Barto's "book" dynamics): state theta1, theta2, dtheta1, dtheta2; one
// RK4 step of dt = 0.2 s with `torque` on the joint between the links; angles are wrapped to
// [-pi, pi] and velocities bounded by 4 pi and 9 pi.
using AcrobotState = std::array<double, 4>;
AcrobotState acrobot_step(const AcrobotState& s, double torque);
// True once the free end is more than one link length above the pivot.
bool acrobot_reached_goal(const AcrobotState& s);

// Pendulum: theta (0 = upright), theta_dot in [-8, 8]; torque clipped to [-2, 2]; dt 0.05.
struct PendulumState {
  double theta = 0, theta_dot = 0;
};
struct PendulumStep {
  PendulumState next;
  double cost = 0;  // theta^2 + 0.1 theta_dot^2 + 0.001 torque^2, theta normalized.
};
PendulumStep pendulum_step(const PendulumState& s, double torque, double gravity);
// The same with sin(s.theta) given (the env keeps it from its last observation).
PendulumStep pendulum_step(const PendulumState& s, double torque, double gravity,
                           double sin_theta);
// Maps an angle to [-pi, pi).
double normalize_angle(double theta);

}  // namespace rl::classic
