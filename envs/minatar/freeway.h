// MinAtar Freeway. A chicken in column 4 crosses eight lanes of cars (a car of speed s in 1..5
// moves one cell every s + 1 frames and wraps around) and may only move every 3 frames.
// Reaching the top row gives +1, sends the chicken back to the bottom and re-draws every car's
// speed and direction; a car hit sends it back to the bottom. The game ends (terminal, as in
// the reference) on the 2501st frame. No difficulty ramp.
// Channels: 0 chicken, 1 car, 2..6 trail of a car with speed 1..5 (the cell behind it).
#pragma once

#include <array>

#include "envs/minatar/minatar.h"

namespace rl::minatar {

class Freeway {
 public:
  static constexpr int kChannels = 7;
  static constexpr const char* kName = "freeway";
  static constexpr bool kRamps = false;
  static constexpr std::array<int, 3> kMinimalActions = {kNoop, kUp, kDown};
  static constexpr std::array<Color, kChannels> kChannelColors = {
      Color{255, 220, 40}, Color{220, 60, 60},  Color{60, 90, 200}, Color{60, 140, 200},
      Color{60, 180, 170}, Color{80, 180, 100}, Color{140, 180, 70}};

  static constexpr int kPlayerSpeed = 3;   // Frames the chicken waits between moves.
  static constexpr int kTimeLimit = 2500;  // The episode ends when this runs below zero.
  static constexpr int kNumCars = 8;       // Car i drives on row i + 1.

  struct Car {
    int x = 0, y = 0;
    int timer = 0;  // Frames until the next move.
    int speed = 1;  // Signed: |speed| in 1..5 frames per move, sign = direction (+ right).
  };

  struct State {
    int chicken_y = 9;
    int move_timer = kPlayerSpeed;
    int terminate_timer = kTimeLimit;
    std::array<Car, kNumCars> cars{};
  };

  explicit Freeway(bool /*ramping: Freeway has no ramp*/) {}

  void reset(Rng& rng);
  Outcome act(int action, Rng& rng);
  void write_observation(uint8_t* obs) const;

  State& state() { return s_; }
  const State& state() const { return s_; }

 private:
  // Draws new speeds and directions; `place` also puts every car at x = 0 on its row.
  void randomize_cars(Rng& rng, bool place);

  State s_;
};

}  // namespace rl::minatar
