// Racetrack physics invariants, rewards, termination and observations.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "driving_test_util.h"

namespace rl::driving {
namespace {

using testing::CentreLineDriver;
using testing::make_env;

Racetrack& as_racetrack(Env& env) { return dynamic_cast<Racetrack&>(env); }

// A near-straight track: a circle of radius 1000 m (jitter 0), for straight-line physics.
std::map<std::string, ParamValue> big_circle() {
  return {{"track_radius", 1000.0}, {"track_jitter", 0.0}, {"max_episode_steps", int64_t{5000}}};
}

StepResult step(Env& env, double steer, double pedal, std::vector<uint8_t>& obs) {
  const float values[2] = {static_cast<float>(steer), static_cast<float>(pedal)};
  return env.step(Action::continuous(values), obs);
}

TEST_CASE("at rest without throttle the car does not move, whatever the steering") {
  for (double steer : {0.0, 1.0, -1.0}) {
    auto env = make_env("driving/racetrack-v0");
    std::vector<uint8_t> obs(env->spec().observation_space.bytes());
    env->reset(3, obs);
    const Vec2 start = as_racetrack(*env).car().position;
    const double heading = as_racetrack(*env).car().heading;
    for (int i = 0; i < 200; ++i) {
      const StepResult r = step(*env, steer, 0.0, obs);
      REQUIRE_FALSE(r.done());
      CHECK(r.reward == doctest::Approx(-0.1));
    }
    CHECK(as_racetrack(*env).car().position.x == start.x);
    CHECK(as_racetrack(*env).car().position.y == start.y);
    CHECK(as_racetrack(*env).car().heading == heading);
  }
  // The same with the discrete noop and brake actions.
  auto env = make_env("driving/racetrack_discrete-v0");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(3, obs);
  const Vec2 start = as_racetrack(*env).car().position;
  for (int i = 0; i < 100; ++i) env->step(Action::discrete(i % 2 == 0 ? 0 : 4), obs);
  CHECK(as_racetrack(*env).car().position.x == start.x);
  CHECK(as_racetrack(*env).car().position.y == start.y);
}

TEST_CASE("braking from speed stops the car within the friction-limited distance") {
  auto env = make_env("driving/racetrack-v0", big_circle());
  Racetrack& race = as_racetrack(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  for (int i = 0; i < 80; ++i) REQUIRE_FALSE(step(*env, 0.0, 1.0, obs).done());
  const double speed = race.car().forward_speed();
  REQUIRE(speed > 20.0);
  const Vec2 brake_point = race.car().position;
  int steps = 0;
  while (race.car().velocity.norm() > 0.0 && steps < 200) {
    REQUIRE_FALSE(step(*env, 0.0, -1.0, obs).done());
    ++steps;
  }
  CHECK(race.car().velocity.norm() == 0.0);
  // Deceleration is capped by grip (9.81) plus resistance, so stopping takes at least
  // v^2 / (2 * (grip + resistance)) metres and at most v^2 / (2 * 0.8 grip).
  const double distance = (race.car().position - brake_point).norm();
  CHECK(distance > speed * speed / (2.0 * 11.0));
  CHECK(distance < speed * speed / (2.0 * 0.8 * 9.81));
  // Braking never reverses the car.
  const Vec2 stopped = race.car().position;
  for (int i = 0; i < 20; ++i) step(*env, 0.0, -1.0, obs);
  CHECK((race.car().position - stopped).norm() == 0.0);
}

TEST_CASE("cornering faster than the grip allows makes the car slide") {
  auto env = make_env("driving/racetrack-v0", big_circle());
  Racetrack& race = as_racetrack(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  for (int i = 0; i < 80; ++i) step(*env, 0.0, 1.0, obs);
  double max_slip = 0.0;
  for (int i = 0; i < 10; ++i) {
    if (step(*env, 1.0, 0.0, obs).done()) break;
    max_slip = std::max(max_slip, std::abs(race.car().lateral_speed()));
  }
  CHECK(max_slip > 1.0);
}

TEST_CASE("leaving the track terminates with the penalty") {
  auto env = make_env("driving/racetrack-v0");
  Racetrack& race = as_racetrack(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(9, obs);
  StepResult r;
  int steps = 0;
  do {
    r = step(*env, 1.0, 1.0, obs);
    ++steps;
  } while (!r.done() && steps < 1000);
  CHECK(r.terminated);
  CHECK(std::abs(race.lateral_offset()) > race.track().half_width());
  CHECK(r.reward < -99.0);
  CHECK(r.reward > -101.0);
  CHECK_FALSE(race.lap_complete());
}

TEST_CASE("a centre-line driver completes laps and the progress sums to 1000") {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    INFO("seed ", seed);
    auto env = make_env("driving/racetrack-v0");
    Racetrack& race = as_racetrack(*env);
    std::vector<uint8_t> obs(env->spec().observation_space.bytes());
    env->reset(seed, obs);
    CentreLineDriver driver;
    double total = 0.0;
    StepResult r;
    do {
      double steer = 0.0, pedal = 0.0;
      driver.controls(race, steer, pedal);
      r = step(*env, steer, pedal, obs);
      total += r.reward;
      REQUIRE(std::abs(race.lateral_offset()) < race.track().half_width());
    } while (!r.done());
    CHECK(r.terminated);
    CHECK(race.lap_complete());
    const int64_t steps = env->episode_steps();
    CHECK(steps < 1000);
    CHECK(total == doctest::Approx(1000.0 - 0.1 * steps).epsilon(1e-4));
    CHECK(total > 900.0);
  }
}

TEST_CASE("driving backwards loses progress reward") {
  auto env = make_env("driving/racetrack-v0", big_circle());
  Racetrack& race = as_racetrack(*env);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  // Turn the car around by hand is not possible through actions, so check symmetry instead:
  // forward motion earns positive progress reward.
  double sum = 0.0;
  for (int i = 0; i < 40; ++i) sum += step(*env, 0.0, 1.0, obs).reward + 0.1;
  CHECK(sum > 0.0);
  CHECK(sum == doctest::Approx(1000.0 * race.progress() / race.track().length()));
}

TEST_CASE("vector observation: symmetric side rays at the start, speed grows with throttle") {
  auto env = make_env("driving/racetrack-v0", {{"rays", int64_t{5}}});
  const Space& space = env->spec().observation_space;
  REQUIRE(space.shape == std::vector<int64_t>{5 + 5 + 5});
  std::vector<uint8_t> obs(space.bytes());
  env->reset(2, obs);
  const float* o = as_f32(std::span<const uint8_t>(obs));
  CHECK(o[0] == doctest::Approx(6.0 / 50.0).epsilon(0.02));  // Right, 90 degrees.
  CHECK(o[4] == doctest::Approx(6.0 / 50.0).epsilon(0.02));  // Left, 90 degrees.
  CHECK(o[2] > 0.2f);                                        // Ahead: open track.
  CHECK(o[5] == 0.f);                                        // Speed.
  CHECK(o[7] == doctest::Approx(0.f));                       // Lateral offset.
  for (int i = 0; i < 20; ++i) step(*env, 0.0, 1.0, obs);
  CHECK(o[5] > 0.1f);
}

TEST_CASE("image observation has the declared shape and shows the car at the centre") {
  for (const char* color : {"gray", "rgb"}) {
    INFO(color);
    auto env = make_env("driving/racetrack-v0", {{"observation", std::string("image")},
                                                 {"image_color", std::string(color)}});
    const Space& space = env->spec().observation_space;
    const int64_t channels = std::string(color) == "rgb" ? 3 : 1;
    REQUIRE(space.shape == std::vector<int64_t>{channels, 64, 64});
    REQUIRE(space.dtype == DType::kU8);
    std::vector<uint8_t> obs(space.bytes());
    env->reset(4, obs);
    for (int i = 0; i < 30; ++i) step(*env, 0.3, 0.5, obs);  // Off the start line, turned.
    auto pixel = [&](int c, int x, int y) { return obs[(c * 64 + y) * 64 + x]; };
    const uint8_t car = channels == 3 ? 220 : 255;
    for (int y = 30; y < 34; ++y)
      for (int x = 31; x < 33; ++x) CHECK(pixel(0, x, y) == car);
    // Heading-up: the car is longer than wide, so it covers rows above and below the centre
    // but not the columns 3 pixels to either side.
    CHECK(pixel(0, 32, 29) == car);
    CHECK(pixel(0, 28, 32) != car);
    CHECK(pixel(0, 36, 32) != car);
    // Track ahead of the car, grass far to the side (the track is 12 m of the 48 m view wide).
    const uint8_t road = channels == 3 ? 110 : 120;
    CHECK(pixel(0, 32, 20) == road);
    const uint8_t grass = channels == 3 ? 60 : 40;
    CHECK((pixel(0, 1, 32) == grass || pixel(0, 62, 32) == grass));
  }
}

TEST_CASE("track_seed fixes the track; otherwise every reset draws a new one") {
  auto fixed = make_env("driving/racetrack-v0", {{"track_seed", int64_t{11}}});
  auto fresh = make_env("driving/racetrack-v0");
  std::vector<uint8_t> obs(fixed->spec().observation_space.bytes());
  fixed->reset(1, obs);
  const double fixed_length = as_racetrack(*fixed).track().length();
  fixed->reset(2, obs);
  CHECK(as_racetrack(*fixed).track().length() == fixed_length);
  fresh->reset(1, obs);
  const double first = as_racetrack(*fresh).track().length();
  fresh->reset(obs);
  CHECK(as_racetrack(*fresh).track().length() != first);
}

TEST_CASE("bad parameters are rejected with a clear error") {
  CHECK_THROWS_WITH_AS(make_env("driving/racetrack-v0", {{"track_width", 60.0}}),
                       doctest::Contains("track_width"), std::invalid_argument);
  CHECK_THROWS_AS(make_env("driving/racetrack-v0", {{"observation", std::string("lidar")}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(make_env("driving/racetrack-v0", {{"rays", int64_t{0}}}), std::invalid_argument);
}

TEST_CASE("render draws the track view with the HUD") {
  auto env = make_env("driving/racetrack-v0");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  for (int i = 0; i < 20; ++i) step(*env, 0.0, 1.0, obs);
  Image img;
  env->render(img);
  REQUIRE(img.width == 640);
  int red = 0, yellow = 0, white = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const Color c = img.at(x, y);
      red += c == Color{220, 30, 30};
      yellow += c == Color{250, 210, 40};
      white += (y < 62 && x < 204 && c == Color{255, 255, 255});
    }
  CHECK(red > 5);     // The car.
  CHECK(yellow > 5);  // The driven line.
  CHECK(white > 50);  // HUD text.
}

}  // namespace
}  // namespace rl::driving
