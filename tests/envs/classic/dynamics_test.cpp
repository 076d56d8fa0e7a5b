// Classic-control physics checked against values worked out by hand from Gymnasium's
// equations (see envs/classic/dynamics.h).
#include "envs/classic/dynamics.h"

#include <doctest/doctest.h>

#include <cmath>

namespace rl::classic {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST_CASE("CartPole: one step from rest pushing right") {
  // temp = 10 / 1.1; theta_acc = -temp / (0.5 * (4/3 - 0.1/1.1)) = -600/41;
  // x_acc = temp - 0.05 * theta_acc / 1.1 = 400/41. Euler with tau = 0.02.
  const CartPoleState n = cartpole_step({}, 1);
  CHECK(n.x == 0.0);
  CHECK(n.theta == 0.0);
  CHECK(n.x_dot == doctest::Approx(0.02 * 400.0 / 41.0).epsilon(1e-12));
  CHECK(n.theta_dot == doctest::Approx(-0.02 * 600.0 / 41.0).epsilon(1e-12));
  const CartPoleState left = cartpole_step({}, 0);
  CHECK(left.x_dot == doctest::Approx(-n.x_dot).epsilon(1e-12));
  CHECK(left.theta_dot == doctest::Approx(-n.theta_dot).epsilon(1e-12));
  // Positions integrate the previous velocities (explicit Euler).
  const CartPoleState moving = cartpole_step({0.1, 0.5, 0.0, 0.25}, 1);
  CHECK(moving.x == doctest::Approx(0.1 + 0.02 * 0.5));
  CHECK(moving.theta == doctest::Approx(0.02 * 0.25));
}

TEST_CASE("CartPole: fails beyond 2.4 m or 12 degrees") {
  CHECK(!cartpole_failed({2.39, 0, 0, 0}));
  CHECK(cartpole_failed({2.41, 0, 0, 0}));
  CHECK(cartpole_failed({-2.41, 0, 0, 0}));
  CHECK(!cartpole_failed({0, 0, 0.2094, 0}));  // 12 degrees = 0.20944 rad.
  CHECK(cartpole_failed({0, 0, 0.2095, 0}));
  CHECK(cartpole_failed({0, 0, -0.2095, 0}));
}

TEST_CASE("MountainCar: one step, velocity clipping, and the left wall stops the car") {
  // At -0.5 with no push: v = -cos(-1.5) * 0.0025.
  const MountainCarState n = mountain_car_step({-0.5, 0.0}, 1);
  CHECK(n.velocity == doctest::Approx(-0.0025 * 0.0707372016677029).epsilon(1e-9));
  CHECK(n.position == doctest::Approx(-0.5 + n.velocity).epsilon(1e-12));
  // At -pi/6 gravity vanishes (cos(-pi/2) = 0): 0.0695 + 0.001 clips to 0.07.
  const MountainCarState fast = mountain_car_step({-kPi / 6, 0.0695}, 2);
  CHECK(fast.velocity == doctest::Approx(0.07));
  CHECK(fast.position == doctest::Approx(-kPi / 6 + 0.07));
  // Near the left wall moving left: the position clips to -1.2 and the velocity resets to 0.
  const MountainCarState wall = mountain_car_step({-1.19, -0.05}, 0);
  CHECK(wall.position == -1.2);
  CHECK(wall.velocity == 0.0);
  const MountainCarState cwall = continuous_mountain_car_step({-1.19, -0.05}, -1.0);
  CHECK(cwall.position == static_cast<float>(-1.2));
  CHECK(cwall.velocity == 0.0);
}

TEST_CASE("MountainCarContinuous: force is clipped to [-1, 1] and scaled by 0.0015") {
  const MountainCarState a = continuous_mountain_car_step({-kPi / 6, 0.0}, 1.0);
  CHECK(a.velocity == doctest::Approx(0.0015).epsilon(1e-6));
  const MountainCarState b = continuous_mountain_car_step({-kPi / 6, 0.0}, 3.0);
  CHECK(b.velocity == a.velocity);
  // The state is kept in float32 between steps, as in Gymnasium.
  CHECK(a.position == static_cast<double>(static_cast<float>(a.position)));
}

TEST_CASE("Acrobot: hanging at rest is an equilibrium; torque accelerates the joints") {
  const AcrobotState rest = acrobot_step({0, 0, 0, 0}, 0.0);
  for (double v : rest) CHECK(std::abs(v) < 1e-12);
  // At rest: d1 = 4.5, d2 = 1.75, so ddtheta2 = 1 / (1.25 - 1.75^2 / 4.5) = 72/41 and
  // ddtheta1 = -1.75 * ddtheta2 / 4.5 = -28/41. Over dt = 0.2 gravity barely acts yet.
  const AcrobotState pushed = acrobot_step({0, 0, 0, 0}, 1.0);
  CHECK(pushed[3] == doctest::Approx(0.2 * 72.0 / 41.0).epsilon(0.1));
  CHECK(pushed[2] == doctest::Approx(-0.2 * 28.0 / 41.0).epsilon(0.1));
  CHECK(pushed[1] == doctest::Approx(0.5 * 0.04 * 72.0 / 41.0).epsilon(0.1));
  CHECK(pushed[0] == doctest::Approx(-0.5 * 0.04 * 28.0 / 41.0).epsilon(0.1));
}

TEST_CASE("Acrobot: angles wrap to [-pi, pi] and velocities are bounded") {
  const AcrobotState over = acrobot_step({3.1, 0, 1.0, 0}, 0.0);  // Swings past the top.
  CHECK(over[0] < 0);
  CHECK(over[0] >= -kPi);
  CHECK(over[0] == doctest::Approx(3.1 + 0.2 * 1.0 - 2 * kPi).epsilon(0.02));
  const AcrobotState fast = acrobot_step({0, 0, 20.0, -40.0}, 0.0);
  CHECK(fast[2] == doctest::Approx(4 * kPi));
  CHECK(fast[3] == doctest::Approx(-9 * kPi));
}

TEST_CASE("Acrobot: the goal is the free end more than one link above the pivot") {
  // Height of the free end above the pivot: -cos(theta1) - cos(theta1 + theta2).
  CHECK(acrobot_reached_goal({kPi, 0, 0, 0}));                  // Straight up: height 2.
  CHECK(!acrobot_reached_goal({0, 0, 0, 0}));                   // Hanging: height -2.
  CHECK(!acrobot_reached_goal({kPi / 2, kPi / 2, 0, 0}));       // Height exactly 1: not above.
  CHECK(!acrobot_reached_goal({2.0, 0, 0, 0}));                 // -2 cos 2 = 0.83.
  CHECK(acrobot_reached_goal({2.2, 0, 0, 0}));                  // -2 cos 2.2 = 1.18.
  CHECK(acrobot_reached_goal({kPi / 2 + 0.1, kPi / 2, 0, 0}));  // sin 0.1 + cos 0.1.
}

TEST_CASE("Pendulum: one step by hand, cost, torque and speed clipping") {
  // theta_dot' = (15 sin 0.5 + 3 u) * 0.05; theta' = theta + theta_dot' * 0.05.
  const PendulumStep a = pendulum_step({0.5, 0.0}, 1.0, 10.0);
  const double expected_dot = (15 * std::sin(0.5) + 3.0) * 0.05;
  CHECK(a.next.theta_dot == doctest::Approx(expected_dot).epsilon(1e-12));
  CHECK(a.next.theta == doctest::Approx(0.5 + expected_dot * 0.05).epsilon(1e-12));
  CHECK(a.cost == doctest::Approx(0.25 + 0.001).epsilon(1e-12));
  // Torque beyond 2 acts (and costs) as 2.
  const PendulumStep big = pendulum_step({0.5, 0.0}, 5.0, 10.0);
  const PendulumStep two = pendulum_step({0.5, 0.0}, 2.0, 10.0);
  CHECK(big.next.theta_dot == two.next.theta_dot);
  CHECK(big.cost == two.cost);
  CHECK(big.cost == doctest::Approx(0.25 + 0.004));
  // Speed clips at 8: 7.9 + (15 + 6) * 0.05 = 8.95.
  const PendulumStep fast = pendulum_step({kPi / 2, 7.9}, 2.0, 10.0);
  CHECK(fast.next.theta_dot == 8.0);
  CHECK(fast.next.theta == doctest::Approx(kPi / 2 + 0.4));
  CHECK(fast.cost == doctest::Approx(kPi * kPi / 4 + 0.1 * 7.9 * 7.9 + 0.004));
  // Hanging straight down costs pi^2; upright at rest costs nothing and stays put.
  CHECK(pendulum_step({kPi, 0.0}, 0.0, 10.0).cost == doctest::Approx(kPi * kPi));
  const PendulumStep up = pendulum_step({0.0, 0.0}, 0.0, 10.0);
  CHECK(up.cost == 0.0);
  CHECK(up.next.theta == 0.0);
  CHECK(normalize_angle(3 * kPi) == doctest::Approx(-kPi));
  CHECK(normalize_angle(-0.5) == doctest::Approx(-0.5));
  CHECK(normalize_angle(2 * kPi + 0.5) == doctest::Approx(0.5));
}

TEST_CASE("Pendulum: without torque a swing keeps its energy (semi-implicit Euler)") {
  // theta'' = (3g/2) sin(theta) has the invariant E = theta_dot^2 / 2 + (3g/2) cos(theta).
  auto energy = [](const PendulumState& s) {
    return 0.5 * s.theta_dot * s.theta_dot + 15.0 * std::cos(s.theta);
  };
  PendulumState s{kPi - 0.3, 0.0};
  const double e0 = energy(s);
  double lowest_theta = s.theta;
  for (int i = 0; i < 400; ++i) {
    s = pendulum_step(s, 0.0, 10.0).next;
    CHECK(energy(s) == doctest::Approx(e0).epsilon(0.02));
    lowest_theta = std::max(lowest_theta, s.theta);
  }
  CHECK(lowest_theta > kPi + 0.25);  // It swings through the bottom to the other side.
  // Gravity g = 0: no torque, no change of speed.
  CHECK(pendulum_step({1.0, 0.3}, 0.0, 0.0).next.theta_dot == 0.3);
}

}  // namespace
}  // namespace rl::classic
