// MinAtar Breakout. A paddle on the bottom row bounces a ball that travels only along
// diagonals and breaks three rows of bricks (+1 per brick); a cleared wall is rebuilt when the
// ball next reaches the paddle row. Missing the ball ends the episode. No difficulty ramp.
// Channels: 0 paddle, 1 ball, 2 trail (the ball's previous cell), 3 brick.
#pragma once

#include <array>
#include <cstdint>

#include "envs/minatar/minatar.h"

namespace rl::minatar {

class Breakout {
 public:
  static constexpr int kChannels = 4;
  static constexpr const char* kName = "breakout";
  static constexpr bool kRamps = false;
  static constexpr std::array<int, 3> kMinimalActions = {kNoop, kLeft, kRight};
  static constexpr std::array<Color, kChannels> kChannelColors = {
      Color{230, 230, 230}, Color{255, 80, 60}, Color{120, 50, 40}, Color{70, 140, 255}};

  // Ball directions, in the reference's numbering.
  enum Direction : int { kUpLeft = 0, kUpRight = 1, kDownRight = 2, kDownLeft = 3 };

  struct State {
    int paddle_x = 4;
    int ball_x = 0, ball_y = 3;
    int ball_dir = kDownRight;
    int last_x = 0, last_y = 3;  // Where the ball was one frame ago (the trail).
    bool strike = false;         // A brick was hit last frame (the ball then passes bricks).
    std::array<uint8_t, kPlane> bricks{};  // [y * 10 + x], 1 = brick.
  };

  explicit Breakout(bool /*ramping: Breakout has no ramp*/) {}

  void reset(Rng& rng);
  Outcome act(int action, Rng& rng);
  void write_observation(uint8_t* obs) const;

  State& state() { return s_; }
  const State& state() const { return s_; }

 private:
  State s_;
};

}  // namespace rl::minatar
