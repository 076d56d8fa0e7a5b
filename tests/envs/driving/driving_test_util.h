// Helpers shared by the driving tests: building envs by id and a scripted lap driver.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "core/registry.h"
#include "envs/driving/racetrack.h"

namespace rl::driving::testing {

inline std::unique_ptr<Env> make_env(const std::string& id,
                                     const std::map<std::string, ParamValue>& params = {}) {
  return EnvRegistry::global().make(id, params);
}

// Pure-pursuit steering towards the centre line ahead and a speed chosen from the curvature of
// the next 60 m, as (steer, pedal) commands in [-1, 1].
struct CentreLineDriver {
  int hint = 0;

  void controls(const Racetrack& env, double& steer, double& pedal) {
    const Track& t = env.track();
    const CarState& car = env.car();
    const CarParams& p = env.config().car;
    const Track::Location loc = t.locate(car.position, hint);
    hint = loc.segment;
    const double speed = car.forward_speed();
    const double spacing = t.length() / t.size();
    const double lookahead = 6.0 + 0.4 * speed;
    const int ahead = static_cast<int>(std::ceil(lookahead / spacing));
    const Vec2 target = t.centre((loc.segment + ahead) % t.size());
    const Vec2 to_target = target - car.position;
    const double alpha = wrap_angle(std::atan2(to_target.y, to_target.x) - car.heading);
    const double wheel = std::atan(2.0 * p.wheelbase * std::sin(alpha) / to_target.norm());
    steer = std::clamp(wheel / p.max_steer, -1.0, 1.0);
    double target_speed = 35.0;
    for (double d = 0.0; d < 60.0; d += spacing) {
      const double k = std::abs(t.curvature_ahead(loc.segment, d));
      if (k > 1e-6) target_speed = std::min(target_speed, std::sqrt(0.8 * p.grip / k));
    }
    pedal = std::clamp(0.5 * (target_speed - speed), -1.0, 1.0);
  }
};

}  // namespace rl::driving::testing
