#include "envs/driving/track.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace rl::driving {
namespace {

// Point on the uniform Catmull-Rom segment from p1 to p2 at t in [0, 1].
Vec2 catmull_rom(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, double t) {
  const double t2 = t * t, t3 = t2 * t;
  auto axis = [&](double a, double b, double c, double d) {
    return 0.5 *
           (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (3 * b - a - 3 * c + d) * t3);
  };
  return {axis(p0.x, p1.x, p2.x, p3.x), axis(p0.y, p1.y, p2.y, p3.y)};
}

// Densely samples the closed spline through `control`.
std::vector<Vec2> sample_closed_spline(const std::vector<Vec2>& control, int per_span) {
  const int n = static_cast<int>(control.size());
  std::vector<Vec2> dense;
  dense.reserve(static_cast<size_t>(n * per_span));
  for (int k = 0; k < n; ++k) {
    const Vec2 &p0 = control[(k + n - 1) % n], &p1 = control[k], &p2 = control[(k + 1) % n],
               &p3 = control[(k + 2) % n];
    for (int j = 0; j < per_span; ++j)
      dense.push_back(catmull_rom(p0, p1, p2, p3, static_cast<double>(j) / per_span));
  }
  return dense;
}

// Resamples a closed polyline to points evenly spaced (about `spacing`) along its length.
std::vector<Vec2> resample_closed(const std::vector<Vec2>& dense, double spacing) {
  const size_t n = dense.size();
  std::vector<double> cumulative(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i)
    cumulative[i + 1] = cumulative[i] + (dense[(i + 1) % n] - dense[i]).norm();
  const double total = cumulative[n];
  const int count = std::max(8, static_cast<int>(std::lround(total / spacing)));
  const double step = total / count;
  std::vector<Vec2> out;
  out.reserve(static_cast<size_t>(count));
  size_t seg = 0;
  for (int k = 0; k < count; ++k) {
    const double target = k * step;
    while (seg + 1 < n && cumulative[seg + 1] < target) ++seg;
    const double len = cumulative[seg + 1] - cumulative[seg];
    const double t = len > 0 ? (target - cumulative[seg]) / len : 0.0;
    out.push_back(dense[seg] + (dense[(seg + 1) % n] - dense[seg]) * t);
  }
  return out;
}

// Ray origin + t * dir against segment a-b: returns t, or +inf when they do not cross.
double ray_segment(Vec2 origin, Vec2 dir, Vec2 a, Vec2 b) {
  const Vec2 ab = b - a;
  const double denom = cross(dir, ab);
  if (std::abs(denom) < 1e-12) return std::numeric_limits<double>::infinity();
  const Vec2 ao = a - origin;
  const double t = cross(ao, ab) / denom;
  const double u = cross(ao, dir) / denom;
  if (u < -1e-9 || u > 1.0 + 1e-9) return std::numeric_limits<double>::infinity();
  return t;
}

}  // namespace

Track Track::generate(Rng& rng, const TrackShape& shape) {
  constexpr int kAttemptsToCircle = 20;
  for (int attempt = 0;; ++attempt) {
    const double scale = std::max(0.0, 1.0 - static_cast<double>(attempt) / kAttemptsToCircle);
    const int n = shape.control_points;
    std::vector<double> radii(static_cast<size_t>(n));
    for (double& r : radii) r = scale * rng.uniform(-shape.radius_jitter, shape.radius_jitter);
    std::vector<Vec2> control;
    control.reserve(static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) {
      const double angle = 2.0 * M_PI * (k + scale * rng.uniform(-0.2, 0.2)) / n;
      // Blending each radius with its neighbours keeps single spikes from forming hairpins.
      const double r = 0.5 * radii[k] + 0.25 * (radii[(k + n - 1) % n] + radii[(k + 1) % n]);
      control.push_back(unit(angle) * (shape.radius * (1.0 + r)));
    }
    Track track = from_centre_line(
        resample_closed(sample_closed_spline(control, 32), shape.spacing), shape.half_width);
    if (track.validate().empty() || scale == 0.0) return track;
  }
}

Track Track::from_centre_line(std::vector<Vec2> centre, double half_width) {
  if (centre.size() < 3)
    throw std::invalid_argument("Track: a closed track needs at least 3 centre points, got " +
                                std::to_string(centre.size()));
  Track track;
  track.centre_ = std::move(centre);
  track.build(half_width);
  return track;
}

void Track::build(double half_width) {
  const int n = size();
  half_width_ = half_width;
  tangent_.resize(n);
  segment_length_.resize(n);
  heading_.resize(n);
  s_.resize(n);
  length_ = 0.0;
  for (int i = 0; i < n; ++i) {
    const Vec2 d = centre_[next(i)] - centre_[i];
    segment_length_[i] = d.norm();
    tangent_[i] = normalized(d);
    heading_[i] = std::atan2(d.y, d.x);
    s_[i] = length_;
    length_ += segment_length_[i];
  }
  mean_spacing_ = length_ / n;
  section_tangent_.resize(n);
  curvature_.resize(n);
  left_.resize(n);
  right_.resize(n);
  for (int i = 0; i < n; ++i) {
    const int p = prev(i);
    section_tangent_[i] = normalized(tangent_[p] + tangent_[i]);
    const double turn = wrap_angle(heading_[i] - heading_[p]);
    curvature_[i] = turn / (0.5 * (segment_length_[p] + segment_length_[i]));
    const double miter = half_width / std::cos(0.5 * turn);
    const Vec2 normal = perp(section_tangent_[i]);
    left_[i] = centre_[i] + normal * miter;
    right_[i] = centre_[i] - normal * miter;
  }
}

Track::Location Track::locate(Vec2 p, int hint) const {
  int q = (hint >= 0 && hint < size()) ? hint : 0;
  for (int steps = 0; steps < size(); ++steps) {
    if (!ahead_of_section(p, q)) {
      q = prev(q);
    } else if (ahead_of_section(p, next(q))) {
      q = next(q);
    } else {
      break;
    }
  }
  const Vec2 rel = p - centre_[q];
  const double along = std::clamp(dot(rel, tangent_[q]), 0.0, segment_length_[q]);
  return {q, s_[q] + along, cross(tangent_[q], rel), heading_[q]};
}

double Track::cast_ray(Vec2 origin, Vec2 direction, int segment, double max_range) const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // Only crossings ahead of the origin count.
  auto ahead = [](double t) { return t >= -1e-9 ? t : kInf; };
  int q = segment;
  for (int steps = 0; steps < size(); ++steps) {
    const int q1 = next(q);
    const double side = ahead(std::min(ray_segment(origin, direction, left_[q], left_[q1]),
                                       ray_segment(origin, direction, right_[q], right_[q1])));
    // The ray can only leave through a cross-section in the direction it crosses it.
    const double front = dot(direction, section_tangent_[q1]) > 0.0
                             ? ahead(ray_segment(origin, direction, left_[q1], right_[q1]))
                             : kInf;
    const double back = dot(direction, section_tangent_[q]) < 0.0
                            ? ahead(ray_segment(origin, direction, left_[q], right_[q]))
                            : kInf;
    const double first = std::min({side, front, back});
    if (first == kInf) return 0.0;  // The origin is outside the track.
    if (first >= max_range) return max_range;
    if (first == side) return std::max(0.0, side);
    q = first == front ? q1 : prev(q);
  }
  return max_range;
}

double Track::curvature_ahead(int segment, double distance) const {
  const int offset = static_cast<int>(std::lround(distance / mean_spacing_));
  return curvature_[((segment + offset) % size() + size()) % size()];
}

std::string Track::validate() const {
  const int n = size();
  for (int i = 0; i < n; ++i) {
    if (segment_length_[i] > 3.0 * mean_spacing_ || segment_length_[i] <= 0.0)
      return "segment " + std::to_string(i) + " has length " + std::to_string(segment_length_[i]) +
             " (mean " + std::to_string(mean_spacing_) + "): the loop does not close evenly";
    if (std::abs(curvature_[i]) * 2.0 * half_width_ > 1.0)
      return "radius of curvature " + std::to_string(1.0 / std::abs(curvature_[i])) +
             " m at point " + std::to_string(i) + " is below two half widths";
  }
  const double min_gap = 2.0 * M_PI * half_width_;
  const double min_distance = 3.5 * half_width_;
  const double max_step = *std::max_element(segment_length_.begin(), segment_length_.end());
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n;) {
      const double distance = (centre_[i] - centre_[j]).norm();
      const double along = std::min(s_[j] - s_[i], length_ - (s_[j] - s_[i]));
      if (along > min_gap && distance < min_distance)
        return "points " + std::to_string(i) + " and " + std::to_string(j) + " are " +
               std::to_string(distance) + " m apart";
      // Points advance at most max_step each, so none of the next ones can be closer yet.
      j += std::max(1, static_cast<int>((distance - min_distance) / max_step));
    }
  return "";
}

}  // namespace rl::driving
