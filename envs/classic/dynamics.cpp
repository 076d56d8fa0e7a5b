#include "envs/classic/dynamics.h"

#include <algorithm>
#include <cmath>

namespace rl::classic {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

CartPoleState cartpole_step(const CartPoleState& s, int action) {
  constexpr double kGravity = 9.8, kCartMass = 1.0, kPoleMass = 0.1;
  constexpr double kTotalMass = kCartMass + kPoleMass;
  constexpr double kHalfPoleLength = 0.5;
  constexpr double kPoleMassLength = kPoleMass * kHalfPoleLength;
  constexpr double kForce = 10.0, kTau = 0.02;
  const double force = action == 1 ? kForce : -kForce;
  const double cos_t = std::cos(s.theta), sin_t = std::sin(s.theta);
  const double temp = (force + kPoleMassLength * s.theta_dot * s.theta_dot * sin_t) / kTotalMass;
  const double theta_acc = (kGravity * sin_t - cos_t * temp) /
                           (kHalfPoleLength * (4.0 / 3.0 - kPoleMass * cos_t * cos_t / kTotalMass));
  const double x_acc = temp - kPoleMassLength * theta_acc * cos_t / kTotalMass;
  CartPoleState n;
  n.x = s.x + kTau * s.x_dot;
  n.x_dot = s.x_dot + kTau * x_acc;
  n.theta = s.theta + kTau * s.theta_dot;
  n.theta_dot = s.theta_dot + kTau * theta_acc;
  return n;
}

bool cartpole_failed(const CartPoleState& s) {
  constexpr double kThetaLimit = 12.0 * 2.0 * kPi / 360.0, kXLimit = 2.4;
  return s.x < -kXLimit || s.x > kXLimit || s.theta < -kThetaLimit || s.theta > kThetaLimit;
}

namespace {

constexpr double kMinPosition = -1.2, kMaxPosition = 0.6, kMaxSpeed = 0.07;

// Shared tail of both mountain cars: clip, integrate, stop at the left wall.
MountainCarState mountain_car_integrate(double position, double velocity) {
  velocity = std::clamp(velocity, -kMaxSpeed, kMaxSpeed);
  position = std::clamp(position + velocity, kMinPosition, kMaxPosition);
  if (position == kMinPosition && velocity < 0) velocity = 0;
  return {position, velocity};
}

// GCC 12 at -O2 vectorizes a pair of double->float->double round trips into two
// conversions it then folds away; rounding each value on its own keeps the float32 state.
[[gnu::noinline]] double round_to_float32(double x) { return static_cast<float>(x); }

}  // namespace

MountainCarState mountain_car_step(const MountainCarState& s, int action) {
  const double velocity = s.velocity + (action - 1) * 0.001 + std::cos(3 * s.position) * (-0.0025);
  return mountain_car_integrate(s.position, velocity);
}

MountainCarState continuous_mountain_car_step(const MountainCarState& s, double force) {
  force = std::clamp(force, -1.0, 1.0);
  const double velocity = s.velocity + force * 0.0015 - 0.0025 * std::cos(3 * s.position);
  const MountainCarState n = mountain_car_integrate(s.position, velocity);
  return {round_to_float32(n.position), round_to_float32(n.velocity)};
}

namespace {

// Time derivative of the acrobot state under `torque` (book dynamics).
AcrobotState acrobot_derivative(const AcrobotState& s, double torque) {
  constexpr double m1 = 1.0, m2 = 1.0, l1 = 1.0, lc1 = 0.5, lc2 = 0.5, i1 = 1.0, i2 = 1.0;
  constexpr double g = 9.8;
  const double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
  const double d1 =
      m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * std::cos(theta2)) + i1 + i2;
  const double d2 = m2 * (lc2 * lc2 + l1 * lc2 * std::cos(theta2)) + i2;
  const double phi2 = m2 * lc2 * g * std::cos(theta1 + theta2 - kPi / 2.0);
  const double phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * std::sin(theta2) -
                      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * std::sin(theta2) +
                      (m1 * lc1 + m2 * l1) * g * std::cos(theta1 - kPi / 2) + phi2;
  const double ddtheta2 =
      (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * std::sin(theta2) - phi2) /
      (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
  const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return {dtheta1, dtheta2, ddtheta1, ddtheta2};
}

AcrobotState add_scaled(const AcrobotState& a, double scale, const AcrobotState& b) {
  return {a[0] + scale * b[0], a[1] + scale * b[1], a[2] + scale * b[2], a[3] + scale * b[3]};
}

// Gymnasium's wrap(): shifts x by whole turns into [lo, hi].
double wrap(double x, double lo, double hi) {
  const double span = hi - lo;
  while (x > hi) x -= span;
  while (x < lo) x += span;
  return x;
}

}  // namespace

AcrobotState acrobot_step(const AcrobotState& s, double torque) {
  constexpr double kDt = 0.2;
  const AcrobotState k1 = acrobot_derivative(s, torque);
  const AcrobotState k2 = acrobot_derivative(add_scaled(s, kDt / 2, k1), torque);
  const AcrobotState k3 = acrobot_derivative(add_scaled(s, kDt / 2, k2), torque);
  const AcrobotState k4 = acrobot_derivative(add_scaled(s, kDt, k3), torque);
  AcrobotState n;
  for (int i = 0; i < 4; ++i) n[i] = s[i] + kDt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  n[0] = wrap(n[0], -kPi, kPi);
  n[1] = wrap(n[1], -kPi, kPi);
  n[2] = std::clamp(n[2], -4 * kPi, 4 * kPi);
  n[3] = std::clamp(n[3], -9 * kPi, 9 * kPi);
  return n;
}

bool acrobot_reached_goal(const AcrobotState& s) {
  return -std::cos(s[0]) - std::cos(s[1] + s[0]) > 1.0;
}

double normalize_angle(double theta) {
  // Python's % takes the sign of the divisor; fmod takes the dividend's.
  double r = std::fmod(theta + kPi, 2 * kPi);
  if (r < 0) r += 2 * kPi;
  return r - kPi;
}

PendulumStep pendulum_step(const PendulumState& s, double torque, double gravity) {
  return pendulum_step(s, torque, gravity, std::sin(s.theta));
}

PendulumStep pendulum_step(const PendulumState& s, double torque, double gravity,
                           double sin_theta) {
  constexpr double kMaxSpeed = 8.0, kMaxTorque = 2.0, kDt = 0.05, kMass = 1.0, kLength = 1.0;
  const double u = std::clamp(torque, -kMaxTorque, kMaxTorque);
  const double theta = normalize_angle(s.theta);
  PendulumStep step;
  step.cost = theta * theta + 0.1 * s.theta_dot * s.theta_dot + 0.001 * u * u;
  double theta_dot = s.theta_dot + (3 * gravity / (2 * kLength) * sin_theta +
                                    3.0 / (kMass * kLength * kLength) * u) *
                                       kDt;
  theta_dot = std::clamp(theta_dot, -kMaxSpeed, kMaxSpeed);
  step.next = {s.theta + theta_dot * kDt, theta_dot};
  return step;
}

}  // namespace rl::classic
