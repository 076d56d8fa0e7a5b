#include "envs/minatar/freeway.h"

#include <algorithm>
#include <cstdlib>

namespace rl::minatar {

void Freeway::randomize_cars(Rng& rng, bool place) {
  std::array<int, kNumCars> speeds;
  for (int& v : speeds) v = static_cast<int>(rng.integer(1, 5));
  for (int& v : speeds)
    if (rng.below(2) == 0) v = -v;
  for (int i = 0; i < kNumCars; ++i) {
    Car& car = s_.cars[i];
    if (place) {
      car.x = 0;
      car.y = i + 1;
    }
    car.timer = std::abs(speeds[i]);
    car.speed = speeds[i];
  }
}

void Freeway::reset(Rng& rng) {
  s_ = State{};
  randomize_cars(rng, true);
}

Outcome Freeway::act(int action, Rng& rng) {
  Outcome out;
  if (s_.move_timer == 0 && (action == kUp || action == kDown)) {
    s_.move_timer = kPlayerSpeed;
    s_.chicken_y = action == kUp ? std::max(0, s_.chicken_y - 1) : std::min(9, s_.chicken_y + 1);
  }
  if (s_.chicken_y == 0) {
    out.reward += 1;
    randomize_cars(rng, false);
    s_.chicken_y = 9;
  }

  constexpr int kChickenX = 4;
  for (Car& car : s_.cars) {
    if (car.x == kChickenX && car.y == s_.chicken_y) s_.chicken_y = 9;
    if (car.timer == 0) {
      car.timer = std::abs(car.speed);
      car.x += car.speed > 0 ? 1 : -1;
      if (car.x < 0) car.x = 9;
      if (car.x > 9) car.x = 0;
      if (car.x == kChickenX && car.y == s_.chicken_y) s_.chicken_y = 9;
    } else {
      --car.timer;
    }
  }

  if (s_.move_timer > 0) --s_.move_timer;
  if (--s_.terminate_timer < 0) out.terminal = true;
  return out;
}

void Freeway::write_observation(uint8_t* obs) const {
  std::memset(obs, 0, kChannels * kPlane);
  mark(obs, 0, s_.chicken_y, 4);
  for (const Car& car : s_.cars) {
    mark(obs, 1, car.y, car.x);
    int back_x = car.speed > 0 ? car.x - 1 : car.x + 1;
    if (back_x < 0) back_x = 9;
    if (back_x > 9) back_x = 0;
    mark(obs, 1 + std::abs(car.speed), car.y, back_x);
  }
}

RLCADE_REGISTER_ENV({minatar_entry<Freeway>(
    true, "MinAtar Freeway: get the chicken across eight lanes of traffic", 1.f)});
RLCADE_REGISTER_ENV({minatar_entry<Freeway>(
    false, "MinAtar Freeway: get the chicken across eight lanes of traffic", 1.f)});

}  // namespace rl::minatar
