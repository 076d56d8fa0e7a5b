// Freeway rules: the chicken's speed limit, car hits, crossing, car re-draws, the time limit.
#include "envs/minatar/freeway.h"

#include <doctest/doctest.h>

#include <cstdlib>

#include "core/registry.h"
#include "minatar_test_util.h"

namespace rl::minatar {
namespace {

using testing::Harness;
using F = Freeway;

// Parks every car at x = 0 with a timer that will not run out during a test.
void park_cars(F::State& s) {
  for (auto& car : s.cars) {
    car.x = 0;
    car.timer = 100000;
  }
}

TEST_CASE("Freeway: reset places eight cars at x = 0, one per lane, speeds 1..5 both ways") {
  bool seen_left = false, seen_right = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Harness<F> h(false, seed);
    const F::State& s = h.game.state();
    CHECK(s.chicken_y == 9);
    for (int i = 0; i < F::kNumCars; ++i) {
      const auto& car = s.cars[i];
      CHECK(car.x == 0);
      CHECK(car.y == i + 1);
      CHECK(std::abs(car.speed) >= 1);
      CHECK(std::abs(car.speed) <= 5);
      CHECK(car.timer == std::abs(car.speed));
      seen_left |= car.speed < 0;
      seen_right |= car.speed > 0;
    }
  }
  CHECK(seen_left);
  CHECK(seen_right);
}

TEST_CASE("Freeway: the chicken moves at most once every 3 frames") {
  Harness<F> h;
  F::State& s = h.game.state();
  park_cars(s);
  std::vector<int> rows;
  for (int frame = 0; frame < 10; ++frame) {
    h.act(kUp);
    rows.push_back(s.chicken_y);
  }
  // The move timer starts at 3: the first move happens on frame 4.
  CHECK(rows == std::vector<int>{9, 9, 9, 8, 8, 8, 7, 7, 7, 6});
  h.act(kLeft);  // Left, right and fire do nothing.
  h.act(kFire);
  CHECK(s.chicken_y == 6);
}

TEST_CASE("Freeway: a car hit sends the chicken back to the bottom") {
  Harness<F> h;
  F::State& s = h.game.state();
  park_cars(s);
  s.chicken_y = 5;
  s.move_timer = 2;
  F::Car& car = s.cars[4];  // Lane of row 5.
  car.x = 3;
  car.speed = 2;
  car.timer = 0;  // Moves right onto the chicken's column this frame.
  const Outcome out = h.act(kNoop);
  CHECK(out.reward == 0);
  CHECK(s.chicken_y == 9);
  CHECK(car.x == 4);
  CHECK(car.timer == 2);
}

TEST_CASE("Freeway: reaching the top gives +1, returns to the bottom and re-draws car speeds") {
  Harness<F> h(false, 5);
  F::State& s = h.game.state();
  park_cars(s);
  s.chicken_y = 1;
  s.move_timer = 0;
  std::vector<int> speeds_before;
  for (const auto& car : s.cars) speeds_before.push_back(car.speed);
  const Outcome out = h.act(kUp);
  CHECK(out.reward == 1);
  CHECK(s.chicken_y == 9);
  std::vector<int> speeds_after;
  for (const auto& car : s.cars) {
    speeds_after.push_back(car.speed);
    CHECK(car.x == 0);  // Positions stay.
    CHECK(std::abs(car.speed) >= 1);
    CHECK(std::abs(car.speed) <= 5);
    CHECK(car.timer == std::abs(car.speed) - 1);  // Re-armed, then one frame counted.
  }
  CHECK(speeds_after != speeds_before);
}

TEST_CASE("Freeway: the episode ends (terminated) on frame 2501") {
  auto env = EnvRegistry::global().make("minatar/freeway-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(3, obs);
  for (int frame = 1; frame <= 2500; ++frame) {
    const StepResult r = env->step(Action::discrete(frame % 3), obs);
    REQUIRE(!r.done());
  }
  const StepResult last = env->step(Action::discrete(0), obs);
  CHECK(last.terminated);
  CHECK(!last.truncated);
}

TEST_CASE("Freeway: observation channels are chicken, car and a trail per speed") {
  Harness<F> h;
  F::State& s = h.game.state();
  park_cars(s);
  s.cars[0] = F::Car{5, 1, 100, 3};   // Moving right at speed 3: trail at x = 4.
  s.cars[1] = F::Car{9, 2, 100, -5};  // Moving left at speed 5: trail wraps to x = 0.
  s.cars[2] = F::Car{0, 3, 100, 1};   // Moving right: trail wraps to x = 9.
  h.act(kNoop);
  CHECK(h.cell(0, 9, 4));
  CHECK(h.count(0) == 1);
  CHECK(h.count(1) == 8);
  CHECK(h.cell(1, 1, 5));
  CHECK(h.cell(2 + 3 - 1, 1, 4));
  CHECK(h.cell(2 + 5 - 1, 2, 0));
  CHECK(h.cell(2 + 1 - 1, 3, 9));
}

}  // namespace
}  // namespace rl::minatar
