// Track generation and the geometric queries the racetrack relies on.
#include "envs/driving/track.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

namespace rl::driving {
namespace {

bool segments_cross(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const double d1 = cross(b - a, c - a), d2 = cross(b - a, d - a);
  const double d3 = cross(d - c, a - c), d4 = cross(d - c, b - c);
  return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0));
}

// Brute force: does any pair of non-adjacent edges of the closed polyline `pts` cross?
template <typename PointAt>
bool polyline_self_intersects(int n, PointAt pts) {
  for (int i = 0; i < n; ++i)
    for (int j = i + 2; j < n; ++j) {
      if (i == 0 && j == n - 1) continue;  // Adjacent through the closing segment.
      if (segments_cross(pts(i), pts((i + 1) % n), pts(j), pts((j + 1) % n))) return true;
    }
  return false;
}

// Do the left and right edges cross each other anywhere?
bool edges_cross(const Track& t) {
  const int n = t.size();
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (segments_cross(t.left(i), t.left(t.next(i)), t.right(j), t.right(t.next(j)))) return true;
  return false;
}

Track circle(double radius, int points, double half_width) {
  std::vector<Vec2> pts;
  for (int i = 0; i < points; ++i) pts.push_back(unit(2.0 * M_PI * i / points) * radius);
  return Track::from_centre_line(pts, half_width);
}

TEST_CASE("generated tracks are closed, smooth, simple and varied for many seeds") {
  const TrackShape shape;
  std::set<long> lengths;
  double tightest = 0.0, loosest = 1e9;
  for (uint64_t seed = 0; seed < 120; ++seed) {
    INFO("seed ", seed);
    Rng rng(seed);
    const Track t = Track::generate(rng, shape);
    REQUIRE(t.validate() == "");
    const int n = t.size();
    REQUIRE(n > 50);
    // Closed: the closing segment is as short as the others and the heading turns once.
    CHECK((t.centre(n - 1) - t.centre(0)).norm() < 2.0 * shape.spacing);
    double turning = 0.0, max_curvature = 0.0;
    for (int i = 0; i < n; ++i) {
      turning += wrap_angle(t.heading(i) - t.heading(t.prev(i)));
      max_curvature = std::max(max_curvature, std::abs(t.curvature(i)));
    }
    CHECK(std::abs(std::abs(turning) - 2.0 * M_PI) < 1e-6);
    CHECK(max_curvature <= 1.0 / (2.0 * shape.half_width) + 1e-9);
    CHECK_FALSE(polyline_self_intersects(n, [&](int i) { return t.centre(i); }));
    CHECK_FALSE(polyline_self_intersects(n, [&](int i) { return t.left(i); }));
    CHECK_FALSE(polyline_self_intersects(n, [&](int i) { return t.right(i); }));
    CHECK_FALSE(edges_cross(t));
    lengths.insert(std::lround(t.length() * 1000.0));
    tightest = std::max(tightest, max_curvature);
    loosest = std::min(loosest, max_curvature);
  }
  CHECK(lengths.size() > 100);      // Different tracks per seed.
  CHECK(tightest > 2.0 * loosest);  // Some tracks have much sharper turns than others.
}

TEST_CASE("the same rng seed gives the same track") {
  Rng a(5), b(5);
  const Track ta = Track::generate(a, TrackShape{}), tb = Track::generate(b, TrackShape{});
  REQUIRE(ta.size() == tb.size());
  for (int i = 0; i < ta.size(); ++i) CHECK(ta.centre(i).x == tb.centre(i).x);
}

TEST_CASE("validate rejects tracks that are too tight or touch themselves") {
  CHECK(circle(10.0, 40, 6.0).validate() != "");  // Radius 10 < two half widths.
  CHECK(circle(50.0, 100, 6.0).validate() == "");
  // A peanut whose waist brings the two sides within 20 m (centre to centre) of each other,
  // although its curvature is gentle everywhere.
  std::vector<Vec2> peanut;
  for (int i = 0; i < 200; ++i) {
    const double a = 2.0 * M_PI * i / 200;
    const double c = std::cos(a);
    peanut.push_back({100.0 * c, std::sin(a) * (10.0 + 50.0 * c * c)});
  }
  const std::string why = Track::from_centre_line(peanut, 6.0).validate();
  CHECK(why.find("apart") != std::string::npos);
  CHECK(Track::from_centre_line(peanut, 2.0).validate() == "");
  CHECK_THROWS_AS(Track::from_centre_line({{0, 0}, {1, 0}}, 1.0), std::invalid_argument);
}

TEST_CASE("locate follows a point around the track from a local hint") {
  const Track t = circle(50.0, 120, 6.0);
  int hint = 0;
  for (int k = 0; k <= 240; ++k) {
    const double angle = 2.0 * M_PI * k / 240.0 + 0.001;
    const Vec2 p = unit(angle) * 48.0;  // 2 m inside, i.e. to the left of a CCW track.
    const Track::Location loc = t.locate(p, hint);
    hint = loc.segment;
    CHECK(loc.offset == doctest::Approx(2.0).epsilon(0.01));
    const double expected_s = std::fmod(angle, 2.0 * M_PI) / (2.0 * M_PI) * t.length();
    // The chord projection differs from the arc by at most offset * half the segment angle.
    CHECK(std::abs(loc.s - expected_s) < 0.15);
  }
}

TEST_CASE("rays measure the distance to the track edge") {
  const Track t = circle(200.0, 400, 6.0);
  const Vec2 start = t.centre(0);
  const double heading = t.heading(0);
  // Sideways: half the width either side (up to the polygon's tiny sagitta).
  CHECK(t.cast_ray(start, unit(heading + M_PI / 2), 0, 50.0) == doctest::Approx(6.0).epsilon(0.01));
  CHECK(t.cast_ray(start, unit(heading - M_PI / 2), 0, 50.0) == doctest::Approx(6.0).epsilon(0.01));
  // Along the tangent at the start of a circle of radius 200 the outer edge (radius 206) is
  // hit at sqrt(206^2 - 200^2) ~ 49.2 m, many quads further on.
  CHECK(t.cast_ray(start, unit(M_PI / 2), 0, 100.0) == doctest::Approx(49.24).epsilon(0.01));
  CHECK(t.cast_ray(start, unit(heading), 0, 20.0) == 20.0);  // Capped at the range.
}

}  // namespace
}  // namespace rl::driving
