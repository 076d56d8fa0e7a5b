#include "envs/driving/traffic.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "envs/driving/geometry.h"

namespace rl::driving {
namespace {

// Gains of the ego controller, as highway-env's ControlledVehicle.
constexpr double kTauAcceleration = 0.6, kTauHeading = 0.2, kTauLateral = 0.6;
constexpr double kTauPursuit = 0.5 * kTauHeading;
constexpr double kMaxSteering = M_PI / 3.0;

// Keeps |x| >= 0.01 so it can divide.
double not_zero(double x) {
  if (std::abs(x) > 1e-2) return x;
  return x >= 0 ? 1e-2 : -1e-2;
}

// f(x) for an odd function with f(+-0) = +-0 (sin, asin, atan(k tan)): zero, the common case of
// a vehicle driving straight along its lane, skips the libm call with a bit-identical result.
template <typename F>
double odd_zero_shortcut(double x, F f) {
  return x == 0.0 ? x : f(x);
}

}  // namespace

double Vehicle::vx() const { return speed * std::cos(heading); }
double Vehicle::vy() const { return speed * std::sin(heading); }

Traffic::Traffic(int lanes, double lane_width, double speed_limit)
    : lanes_(lanes), lane_width_(lane_width), speed_limit_(speed_limit) {}

int Traffic::closest_lane(double y) const {
  return std::clamp(static_cast<int>(std::lround(y / lane_width_)), 0, lanes_ - 1);
}

bool Traffic::on_lane(double y, int lane) const {
  return std::abs(y - lane_y(lane)) <= 0.5 * lane_width_ + 1.0;
}

double Traffic::desired_gap(const Vehicle& ego, const Vehicle& front) const {
  const double ab = -idm.comfort_acc_max * idm.comfort_acc_min;
  const double dv = ego.speed - front.speed;
  return idm.distance_wanted + ego.speed * idm.time_wanted + ego.speed * dv / (2.0 * std::sqrt(ab));
}

double Traffic::free_road_power(const Vehicle& v) const {
  const double target = std::clamp(v.target_speed, 0.0, speed_limit_);
  return std::pow(std::max(v.speed, 0.0) / std::abs(not_zero(target)), v.delta);
}

double Traffic::idm_acceleration(const Vehicle* ego, const Vehicle* front) const {
  if (ego == nullptr) return 0.0;
  const Vehicle* first = vehicles_.data();
  const bool cached = !free_road_cache_.empty() && !std::less<const Vehicle*>()(ego, first) &&
                      std::less<const Vehicle*>()(ego, first + vehicles_.size());
  double acc = idm.comfort_acc_max *
               (1.0 - (cached ? free_road_cache_[ego - first] : free_road_power(*ego)));
  if (front != nullptr) {
    const double gap = front->x - ego->x;
    acc -= idm.comfort_acc_max * std::pow(desired_gap(*ego, *front) / not_zero(gap), 2);
  }
  return acc;
}

void Traffic::sort() {
  const int n = static_cast<int>(vehicles_.size());
  if (static_cast<int>(order_.size()) != n) {
    order_.resize(n);
    for (int i = 0; i < n; ++i) order_[i] = i;
  }
  // Insertion sort: the order barely changes between steps.
  for (int i = 1; i < n; ++i) {
    const int moving = order_[i];
    int j = i - 1;
    while (j >= 0 && vehicles_[order_[j]].x > vehicles_[moving].x) {
      order_[j + 1] = order_[j];
      --j;
    }
    order_[j + 1] = moving;
  }
  rank_.resize(n);
  for (int i = 0; i < n; ++i) rank_[order_[i]] = i;
}

const Vehicle* Traffic::front_on_lane(int index, int lane) const {
  const int n = static_cast<int>(order_.size());
  const double x = vehicles_[index].x;
  int first = rank_[index];
  while (first > 0 && vehicles_[order_[first - 1]].x == x) --first;
  for (int r = first; r < n; ++r) {
    const Vehicle& v = vehicles_[order_[r]];
    if (order_[r] != index && on_lane(v.y, lane)) return &v;
  }
  return nullptr;
}

std::pair<const Vehicle*, const Vehicle*> Traffic::neighbours(int index, int lane) const {
  const Vehicle* front = nullptr;
  const Vehicle* rear = nullptr;
  const int n = static_cast<int>(order_.size());
  const double x = vehicles_[index].x;
  // Vehicles at exactly the same x count as ahead (as in highway-env), whichever side of
  // `index` the sort put them.
  int first = rank_[index];
  while (first > 0 && vehicles_[order_[first - 1]].x == x) --first;
  for (int r = first; r < n && front == nullptr; ++r) {
    const Vehicle& v = vehicles_[order_[r]];
    if (order_[r] != index && on_lane(v.y, lane)) front = &v;
  }
  for (int r = first - 1; r >= 0 && rear == nullptr; --r) {
    const Vehicle& v = vehicles_[order_[r]];
    if (on_lane(v.y, lane)) rear = &v;
  }
  return {front, rear};
}

bool Traffic::mobil_accepts(int index, int lane) const {
  const Vehicle& self = vehicles_[index];
  const auto [new_preceding, new_following] = neighbours(index, lane);
  const double new_following_a = idm_acceleration(new_following, new_preceding);
  const double new_following_pred_a = idm_acceleration(new_following, &self);
  if (new_following_pred_a < -mobil.max_braking_imposed) return false;

  const auto [old_preceding, old_following] = neighbours(index, self.lane);
  const double self_a = idm_acceleration(&self, old_preceding);
  const double self_pred_a = idm_acceleration(&self, new_preceding);
  const double old_following_a = idm_acceleration(old_following, &self);
  const double old_following_pred_a = idm_acceleration(old_following, old_preceding);
  const double gain = self_pred_a - self_a +
                      mobil.politeness * (new_following_pred_a - new_following_a +
                                          old_following_pred_a - old_following_a);
  return gain >= mobil.min_acc_gain;
}

void Traffic::change_lane_policy(int index) {
  Vehicle& self = vehicles_[index];
  if (self.lane != self.target_lane) {
    // Abort when another vehicle is merging into the same lane too close to us.
    for (const Vehicle& v : vehicles_) {
      if (&v == &self || v.lane == self.target_lane || v.target_lane != self.target_lane) continue;
      const double d = v.x - self.x;
      if (0.0 < d && d < desired_gap(self, v)) {
        self.target_lane = self.lane;
        break;
      }
    }
    return;
  }
  if (self.timer <= mobil.lane_change_delay) return;
  self.timer = 0.0;
  for (int side : {-1, 1}) {
    const int lane = self.lane + side;
    if (lane < 0 || lane >= lanes_ || std::abs(self.speed) < 1.0) continue;
    if (mobil_accepts(index, lane)) self.target_lane = lane;
  }
}

double Traffic::steering_to_lane(const Vehicle& v) const {
  const double lateral = v.y - lane_y(v.target_lane);
  const double lateral_speed_command = -lateral / kTauLateral;
  const double heading_command =
      odd_zero_shortcut(std::clamp(lateral_speed_command / not_zero(v.speed), -1.0, 1.0),
                        [](double x) { return std::asin(x); });
  const double heading_ref = std::clamp(heading_command, -M_PI / 4, M_PI / 4);
  const double heading_rate_command = wrap_angle(heading_ref - v.heading) / kTauHeading;
  const double slip_sine =
      std::clamp(0.5 * kVehicleLength / not_zero(v.speed) * heading_rate_command, -1.0, 1.0);
  // A vehicle centred on its lane and heading straight along it steers exactly zero.
  if (slip_sine == 0.0) return slip_sine;
  const double slip = std::asin(slip_sine);
  return std::clamp(std::atan(2.0 * std::tan(slip)), -kMaxSteering, kMaxSteering);
}

void Traffic::decide(int index) {
  Vehicle& v = vehicles_[index];
  if (v.controlled) {
    v.steering = steering_to_lane(v);
    v.acceleration = (v.target_speed - v.speed) / kTauAcceleration;
    return;
  }
  change_lane_policy(index);
  v.steering = steering_to_lane(v);
  double acc = idm_acceleration(&v, front_on_lane(index, v.lane));
  if (v.lane != v.target_lane)
    acc = std::min(acc, idm_acceleration(&v, front_on_lane(index, v.target_lane)));
  v.acceleration = std::clamp(acc, -idm.acc_max, idm.acc_max);
}

void Traffic::step(double dt) {
  sort();
  const int n = static_cast<int>(vehicles_.size());
  // Speeds and targets stay fixed while vehicles decide: each free-road term is computed once.
  free_road_cache_.resize(n);
  for (int i = 0; i < n; ++i) free_road_cache_[i] = free_road_power(vehicles_[i]);
  for (int i = 0; i < n; ++i) decide(i);
  free_road_cache_.clear();
  for (Vehicle& v : vehicles_) {
    double steering = v.steering, acc = v.acceleration;
    if (v.crashed) {
      steering = 0.0;
      acc = -v.speed;
    }
    if (v.speed > kVehicleMaxSpeed) acc = std::min(acc, kVehicleMaxSpeed - v.speed);
    if (v.speed < -kVehicleMaxSpeed) acc = std::max(acc, -kVehicleMaxSpeed - v.speed);
    const double beta =
        odd_zero_shortcut(steering, [](double s) { return std::atan(0.5 * std::tan(s)); });
    const double course = v.heading + beta;
    const double cos_course = course == 0.0 ? 1.0 : std::cos(course);
    const double sin_course = odd_zero_shortcut(course, [](double c) { return std::sin(c); });
    v.x += v.speed * cos_course * dt;
    v.y += v.speed * sin_course * dt;
    v.heading += v.speed * odd_zero_shortcut(beta, [](double b) { return std::sin(b); }) /
                 (0.5 * kVehicleLength) * dt;
    v.speed += acc * dt;
    v.lane = closest_lane(v.y);
    if (!v.controlled) v.timer += dt;
  }
  sort();
  check_collisions();
}

void Traffic::check_collisions() {
  const double reach = std::hypot(kVehicleLength, kVehicleWidth);
  const int n = static_cast<int>(order_.size());
  for (int r = 0; r < n; ++r) {
    Vehicle& a = vehicles_[order_[r]];
    for (int k = r + 1; k < n && vehicles_[order_[k]].x - a.x < reach; ++k) {
      Vehicle& b = vehicles_[order_[k]];
      if (std::abs(b.y - a.y) < reach && vehicles_overlap(a, b)) a.crashed = b.crashed = true;
    }
  }
}

bool vehicles_overlap(const Vehicle& a, const Vehicle& b) {
  auto corners = [](const Vehicle& v, Vec2 out[4]) {
    const Vec2 f = unit(v.heading) * (0.5 * kVehicleLength);
    const Vec2 l = perp(unit(v.heading)) * (0.5 * kVehicleWidth);
    const Vec2 c{v.x, v.y};
    out[0] = c + f + l, out[1] = c + f - l, out[2] = c - f - l, out[3] = c - f + l;
  };
  Vec2 ca[4], cb[4];
  corners(a, ca);
  corners(b, cb);
  const Vec2 axes[4] = {unit(a.heading), perp(unit(a.heading)), unit(b.heading),
                        perp(unit(b.heading))};
  for (const Vec2& axis : axes) {
    double a_lo = 1e300, a_hi = -1e300, b_lo = 1e300, b_hi = -1e300;
    for (int k = 0; k < 4; ++k) {
      const double pa = dot(ca[k], axis), pb = dot(cb[k], axis);
      a_lo = std::min(a_lo, pa), a_hi = std::max(a_hi, pa);
      b_lo = std::min(b_lo, pb), b_hi = std::max(b_hi, pb);
    }
    if (a_hi <= b_lo || b_hi <= a_lo) return false;
  }
  return true;
}

}  // namespace rl::driving
