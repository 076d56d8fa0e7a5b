// Minimal 2D vector math shared by the driving envs.
#pragma once

#include <cmath>

namespace rl::driving {

struct Vec2 {
  double x = 0.0, y = 0.0;

  Vec2 operator+(Vec2 o) const { return {x + o.x, y + o.y}; }
  Vec2 operator-(Vec2 o) const { return {x - o.x, y - o.y}; }
  Vec2 operator*(double k) const { return {x * k, y * k}; }
  Vec2& operator+=(Vec2 o) {
    x += o.x;
    y += o.y;
    return *this;
  }
  double norm() const { return std::sqrt(x * x + y * y); }
};

inline double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
// z component of the 3D cross product: positive when b is counter-clockwise from a.
inline double cross(Vec2 a, Vec2 b) { return a.x * b.y - a.y * b.x; }
inline Vec2 unit(double angle) { return {std::cos(angle), std::sin(angle)}; }
// Rotates a by +90 degrees.
inline Vec2 perp(Vec2 a) { return {-a.y, a.x}; }
inline Vec2 normalized(Vec2 a) {
  const double n = a.norm();
  return n > 0 ? a * (1.0 / n) : Vec2{1.0, 0.0};
}
// Wraps an angle to [-pi, pi).
inline double wrap_angle(double a) {
  if (a >= -M_PI && a < M_PI) return a;
  a = std::fmod(a + M_PI, 2.0 * M_PI);
  if (a < 0) a += 2.0 * M_PI;
  return a - M_PI;
}

}  // namespace rl::driving
