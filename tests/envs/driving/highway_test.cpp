// Highway: IDM car following, MOBIL safety, ego meta-actions, reward, observations.
#include "envs/driving/highway.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "driving_test_util.h"

namespace rl::driving {
namespace {

using testing::make_env;

Vehicle car(double x, int lane, double speed, double target_speed, double lane_width = 4.0) {
  Vehicle v;
  v.x = x;
  v.y = lane * lane_width;
  v.lane = v.target_lane = lane;
  v.speed = speed;
  v.target_speed = target_speed;
  return v;
}

TEST_CASE("IDM: following a slower leader never collides and settles at the desired gap") {
  for (double start_gap : {25.0, 60.0, 150.0}) {
    INFO("start gap ", start_gap);
    Traffic traffic(1, 4.0, 30.0);
    traffic.vehicles() = {car(0.0, 0, 28.0, 30.0), car(start_gap, 0, 15.0, 15.0)};
    traffic.sort();
    double min_gap = 1e9;
    for (int i = 0; i < 15 * 90; ++i) {
      traffic.step(1.0 / 15.0);
      const auto& v = traffic.vehicles();
      REQUIRE_FALSE(v[0].crashed);
      min_gap = std::min(min_gap, v[1].x - v[0].x);
    }
    const auto& v = traffic.vehicles();
    CHECK(min_gap > kVehicleLength + 1.0);
    CHECK(v[0].speed == doctest::Approx(15.0).epsilon(0.01));
    // IDM equilibrium: s = s* / sqrt(1 - (v / v0)^delta), s* = s0 + v T = 10 + 15 * 1.5.
    const double equilibrium = 32.5 / std::sqrt(1.0 - std::pow(15.0 / 30.0, 4.0));
    CHECK(v[1].x - v[0].x == doctest::Approx(equilibrium).epsilon(0.02));
  }
}

TEST_CASE("IDM: a leader braking to a stop is followed without a collision") {
  Traffic traffic(1, 4.0, 30.0);
  traffic.vehicles() = {car(0.0, 0, 25.0, 25.0), car(40.0, 0, 25.0, 25.0)};
  traffic.sort();
  for (int i = 0; i < 15 * 60; ++i) {
    if (i == 15 * 5) traffic.vehicles()[1].target_speed = 0.0;  // Leader stops after 5 s.
    traffic.step(1.0 / 15.0);
    REQUIRE_FALSE(traffic.vehicles()[0].crashed);
  }
  const auto& v = traffic.vehicles();
  CHECK(v[1].speed < 0.5);
  CHECK(v[1].x - v[0].x > kVehicleLength);
}

// A vehicle (index 0) in lane 0 stuck behind a slow leader, with lane 1 free ahead. Returns the
// traffic with an optional extra car in lane 1 at `blocker_x`.
Traffic stuck_behind_leader(bool with_blocker, double blocker_x, double blocker_speed) {
  Traffic traffic(2, 4.0, 30.0);
  traffic.vehicles() = {car(0.0, 0, 25.0, 30.0), car(30.0, 0, 15.0, 15.0)};
  if (with_blocker) traffic.vehicles().push_back(car(blocker_x, 1, blocker_speed, 30.0));
  traffic.vehicles()[0].timer = 2.0;  // Due for a lane-change decision.
  traffic.sort();
  return traffic;
}

TEST_CASE("MOBIL changes lane when there is a gain and it is safe") {
  Traffic free_lane = stuck_behind_leader(false, 0, 0);
  CHECK(free_lane.mobil_accepts(0, 1));
  free_lane.step(1.0 / 15.0);
  CHECK(free_lane.vehicles()[0].target_lane == 1);
  // A car far behind in lane 1 does not make it unsafe.
  Traffic far = stuck_behind_leader(true, -80.0, 25.0);
  CHECK(far.mobil_accepts(0, 1));
}

TEST_CASE("MOBIL never changes lane when the new follower would brake too hard") {
  // A fast car just behind in lane 1: cutting in would force it to brake much more than 2 m/s^2.
  Traffic traffic = stuck_behind_leader(true, -8.0, 30.0);
  const auto& v = traffic.vehicles();
  const double imposed = traffic.idm_acceleration(&v[2], &v[0]);
  REQUIRE(imposed < -traffic.mobil.max_braking_imposed);
  CHECK_FALSE(traffic.mobil_accepts(0, 1));
  // Keep the blocker alongside for 3 s (several decision periods): no lane change starts.
  for (int i = 0; i < 45; ++i) {
    traffic.vehicles()[2].x = traffic.vehicles()[0].x - 8.0;
    traffic.vehicles()[2].speed = 30.0;
    traffic.sort();
    traffic.step(1.0 / 15.0);
    CHECK(traffic.vehicles()[0].target_lane == 0);
    CHECK(traffic.vehicles()[0].lane == 0);
  }
  // Safety wins over politeness-free greed but incentive is also required: with the leader far
  // away there is nothing to gain and no change either.
  Traffic no_gain(2, 4.0, 30.0);
  no_gain.vehicles() = {car(0.0, 0, 25.0, 25.0), car(500.0, 0, 25.0, 25.0)};
  no_gain.sort();
  CHECK_FALSE(no_gain.mobil_accepts(0, 1));
}

TEST_CASE("overlapping vehicles are detected") {
  Vehicle a = car(0.0, 0, 0.0, 0.0), b = car(4.9, 0, 0.0, 0.0);
  CHECK(vehicles_overlap(a, b));
  b.x = 5.1;
  CHECK_FALSE(vehicles_overlap(a, b));
  b.x = 0.0;
  b.y = 1.9;
  CHECK(vehicles_overlap(a, b));
  b.y = 2.1;
  CHECK_FALSE(vehicles_overlap(a, b));
  b.heading = M_PI / 2;  // Crossing: rotated rectangle reaches 2.5 m sideways.
  CHECK(vehicles_overlap(a, b));
}

Highway& as_highway(Env& env) { return dynamic_cast<Highway&>(env); }

TEST_CASE("ego meta-actions change lane and target speed") {
  auto env = make_env("driving/highway-v0", {{"vehicles", int64_t{0}}});
  Highway& hw = as_highway(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(3, obs);
  const int lane = hw.ego().lane;
  const int64_t toward_middle = lane < 2 ? Highway::kLaneRight : Highway::kLaneLeft;
  env->step(Action::discrete(toward_middle), obs);
  env->step(Action::discrete(Highway::kIdle), obs);
  CHECK(hw.ego().lane == lane + (toward_middle == Highway::kLaneRight ? 1 : -1));
  CHECK(std::abs(hw.ego().y - hw.traffic().lane_y(hw.ego().lane)) < 0.3);
  env->step(Action::discrete(Highway::kFaster), obs);
  env->step(Action::discrete(Highway::kIdle), obs);
  CHECK(hw.ego().speed == doctest::Approx(30.0).epsilon(0.02));
  env->step(Action::discrete(Highway::kSlower), obs);
  env->step(Action::discrete(Highway::kSlower), obs);
  env->step(Action::discrete(Highway::kIdle), obs);
  CHECK(hw.ego().speed == doctest::Approx(20.0).epsilon(0.02));
  // Lane changes stop at the road edge.
  for (int i = 0; i < 6; ++i) env->step(Action::discrete(Highway::kLaneLeft), obs);
  CHECK(hw.ego().target_lane == 0);
}

TEST_CASE("reward follows highway-env: speed and right lane, normalised; a crash terminates") {
  auto env = make_env("driving/highway-v0", {{"vehicles", int64_t{0}}});
  Highway& hw = as_highway(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(5, obs);
  for (int i = 0; i < 4; ++i) env->step(Action::discrete(Highway::kLaneRight), obs);
  env->step(Action::discrete(Highway::kFaster), obs);
  const StepResult fast_right = env->step(Action::discrete(Highway::kIdle), obs);
  // 0.1 (right lane) + 0.4 * ~1 (30 m/s) normalised over [-1, 0.5].
  CHECK(fast_right.reward == doctest::Approx(1.0).epsilon(0.02));
  for (int i = 0; i < 4; ++i) env->step(Action::discrete(Highway::kLaneLeft), obs);
  env->step(Action::discrete(Highway::kSlower), obs);
  env->step(Action::discrete(Highway::kSlower), obs);
  const StepResult slow_left = env->step(Action::discrete(Highway::kIdle), obs);
  CHECK(slow_left.reward == doctest::Approx(1.0 / 1.5).epsilon(0.02));

  // Stage a stopped car right in front of the ego.
  Traffic& traffic = hw.traffic_for_testing();
  Vehicle wall = car(hw.ego().x + 12.0, hw.ego().lane, 0.0, 0.0);
  wall.target_speed = 0.0;
  traffic.vehicles().push_back(wall);
  traffic.sort();
  const StepResult crash = env->step(Action::discrete(Highway::kIdle), obs);
  CHECK(crash.terminated);
  CHECK(hw.ego().crashed);
  // -1 + speed and lane terms, normalised: below the no-collision floor of 1/1.5 * 0 + ...
  CHECK(crash.reward < 0.4f);
}

TEST_CASE("kinematics observation: ego row then nearest vehicles, relative and normalised") {
  auto env = make_env("driving/highway-v0", {{"vehicles", int64_t{0}}});
  Highway& hw = as_highway(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  REQUIRE(env->spec().observation_space.shape == std::vector<int64_t>{5, 5});
  env->reset(1, obs);
  Traffic& traffic = hw.traffic_for_testing();
  const Vehicle ego = hw.ego();
  // Ahead 40 m one lane right (slower), ahead 10 m same lane, behind 5 m, far behind 30 m
  // (hidden: see_behind is off beyond 2 car lengths), and one beyond the perception range.
  traffic.vehicles().push_back(car(ego.x + 40.0, ego.lane, 20.0, 20.0));
  traffic.vehicles().back().y = ego.y + 4.0;
  traffic.vehicles().push_back(car(ego.x + 10.0, ego.lane, 25.0, 25.0));
  traffic.vehicles().back().y = ego.y;
  traffic.vehicles().push_back(car(ego.x - 5.0, ego.lane, 25.0, 25.0));
  traffic.vehicles().back().y = ego.y;
  traffic.vehicles().push_back(car(ego.x - 30.0, ego.lane, 25.0, 25.0));
  traffic.vehicles().back().y = ego.y;
  traffic.vehicles().push_back(car(ego.x + 250.0, ego.lane, 25.0, 25.0));
  traffic.sort();
  hw.observe(obs);
  const float* o = as_f32(std::span<const uint8_t>(obs));
  CHECK(o[0] == 1.f);
  CHECK(o[3] == doctest::Approx(25.0 / 80.0));
  // Sorted by distance along the road: -5 m, +10 m, +40 m; then an empty row.
  CHECK(o[5] == 1.f);
  CHECK(o[6] == doctest::Approx(-5.0 / 200.0));
  CHECK(o[10] == 1.f);
  CHECK(o[11] == doctest::Approx(10.0 / 200.0));
  CHECK(o[15] == 1.f);
  CHECK(o[16] == doctest::Approx(40.0 / 200.0));
  CHECK(o[17] == doctest::Approx(4.0 / 16.0));
  CHECK(o[18] == doctest::Approx(-5.0 / 80.0));
  for (int k = 20; k < 25; ++k) CHECK(o[k] == 0.f);
}

TEST_CASE("occupancy observation marks vehicles and lanes around the ego") {
  auto env = make_env("driving/highway-v0",
                      {{"vehicles", int64_t{0}}, {"observation", std::string("occupancy")}});
  Highway& hw = as_highway(*env);
  REQUIRE(env->spec().observation_space.shape == std::vector<int64_t>{4, 11, 11});
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  Traffic& traffic = hw.traffic_for_testing();
  traffic.vehicles().push_back(car(hw.ego().x + 12.0, 0, 20.0, 20.0));
  traffic.vehicles().back().y = hw.ego().y;
  traffic.sort();
  hw.observe(obs);
  const float* o = as_f32(std::span<const uint8_t>(obs));
  auto at = [&](int layer, int ix, int iy) { return o[(layer * 11 + ix) * 11 + iy]; };
  CHECK(at(0, 5, 5) == 1.f);  // The ego in the centre cell.
  CHECK(at(0, 7, 5) == 1.f);  // 12 m ahead: cell floor((12 + 27.5) / 5) = 7.
  CHECK(at(1, 7, 5) == doctest::Approx(-5.0 / 80.0));
  CHECK(at(0, 9, 5) == 0.f);
  CHECK(at(3, 0, 5) == 1.f);  // The ego's lane is road all along.
  int presence = 0;
  for (int k = 0; k < 121; ++k) presence += o[k] != 0.f;
  CHECK(presence == 2);
}

TEST_CASE("random traffic mostly avoids crashes and an idle ego survives a while") {
  int crashed_traffic = 0, vehicles = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    auto env = make_env("driving/highway-v0");
    Highway& hw = as_highway(*env);
    std::vector<uint8_t> obs(env->spec().observation_space.bytes());
    env->reset(seed, obs);
    for (int i = 0; i < 10 && !env->episode_over(); ++i)
      env->step(Action::discrete(Highway::kIdle), obs);
    for (size_t i = 1; i < hw.traffic().vehicles().size(); ++i)
      crashed_traffic += hw.traffic().vehicles()[i].crashed;
    vehicles += static_cast<int>(hw.traffic().vehicles().size()) - 1;
  }
  CHECK(crashed_traffic * 10 < vehicles);
}

TEST_CASE("highway renders road, traffic and a highlighted ego") {
  auto env = make_env("driving/highway-v0");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(2, obs);
  env->step(Action::discrete(Highway::kIdle), obs);
  Image img;
  env->render(img);
  int ego = 0, others = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      ego += img.at(x, y) == Color{60, 220, 60};
      others += img.at(x, y) == Color{90, 170, 240};
    }
  CHECK(ego > 20);
  CHECK(others > 20);
}

TEST_CASE("bad highway parameters are rejected") {
  CHECK_THROWS_WITH_AS(make_env("driving/highway-v0", {{"policy_frequency", int64_t{2}}}),
                       doctest::Contains("multiple"), std::invalid_argument);
  CHECK_THROWS_AS(make_env("driving/highway-v0", {{"lanes", int64_t{1}}}), std::invalid_argument);
}

}  // namespace
}  // namespace rl::driving
