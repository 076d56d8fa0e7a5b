// Closed race tracks: a polyline of centre points with cumulative arc length, fixed width and
// the strip of quads between consecutive cross-sections. Queries (locate, cast_ray) walk the
// quads locally from a hint, so their cost does not grow with the track length.
#pragma once

#include <string>
#include <vector>

#include "core/rng.h"
#include "envs/driving/geometry.h"

namespace rl::driving {

// Shape of procedurally generated tracks.
struct TrackShape {
  int control_points = 12;     // Points around the circle the spline passes through.
  double radius = 80.0;        // Mean radius of the control points [m].
  double radius_jitter = 0.6;  // Control point radii vary by up to +- jitter * radius.
  double half_width = 6.0;     // Half the track width [m].
  double spacing = 3.0;        // Target distance between centre points [m].
};

class Track {
 public:
  // Generates a random closed track from `rng`: perturbed-radius control points around a circle
  // smoothed by a periodic Catmull-Rom spline, resampled to even spacing. Candidates that are
  // too tight (radius of curvature < 2 half widths) or come close to themselves are redrawn
  // with less jitter, so the result is always valid.
  static Track generate(Rng& rng, const TrackShape& shape);
  // Builds a track from centre points forming a closed loop (the last connects to the first),
  // counter-clockwise or clockwise. Throws std::invalid_argument for fewer than 3 points.
  static Track from_centre_line(std::vector<Vec2> centre, double half_width);

  // Where a point is relative to the track.
  struct Location {
    int segment = 0;       // Quad / centre segment index.
    double s = 0.0;        // Arc length of the projection onto the centre line [m].
    double offset = 0.0;   // Signed lateral distance from the centre line, positive to the left.
    double heading = 0.0;  // Direction of the centre segment [rad].
  };
  // Locates `p` by walking from segment `hint` (use the previous answer for a moving point).
  Location locate(Vec2 p, int hint) const;
  // Distance from `origin` (inside quad `segment`) along unit `direction` to the first track
  // edge, capped at `max_range`.
  double cast_ray(Vec2 origin, Vec2 direction, int segment, double max_range) const;
  // Signed curvature (1/m, positive turning left) at the centre point `distance` metres after
  // the start of `segment`.
  double curvature_ahead(int segment, double distance) const;

  // Checks that consecutive points are close (the loop closes), that the radius of curvature
  // stays above 2 half widths and that parts of the track more than 2*pi*half-width apart
  // along it stay at least 2 track widths apart. Returns "" when valid, else the reason.
  std::string validate() const;

  int size() const { return static_cast<int>(centre_.size()); }
  double length() const { return length_; }
  double half_width() const { return half_width_; }
  const Vec2& centre(int i) const { return centre_[i]; }
  const Vec2& left(int i) const { return left_[i]; }
  const Vec2& right(int i) const { return right_[i]; }
  // Arc length at centre point i.
  double s(int i) const { return s_[i]; }
  // Heading of the segment from point i to point i+1.
  double heading(int i) const { return heading_[i]; }
  // Signed curvature at centre point i.
  double curvature(int i) const { return curvature_[i]; }
  int next(int i) const { return i + 1 == size() ? 0 : i + 1; }
  int prev(int i) const { return i == 0 ? size() - 1 : i - 1; }

 private:
  Track() = default;
  void build(double half_width);
  // True when p lies on the forward side of the cross-section through point i.
  bool ahead_of_section(Vec2 p, int i) const {
    return dot(p - centre_[i], section_tangent_[i]) >= 0.0;
  }

  std::vector<Vec2> centre_, left_, right_;
  std::vector<Vec2> tangent_;          // Unit direction of segment i.
  std::vector<Vec2> section_tangent_;  // Bisector direction at point i.
  std::vector<double> s_, heading_, curvature_, segment_length_;
  double length_ = 0.0;
  double half_width_ = 0.0;
  double mean_spacing_ = 1.0;
};

}  // namespace rl::driving
