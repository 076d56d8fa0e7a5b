// MinAtar Space Invaders. The player's cannon on the bottom row shoots upward at a 4x6 block
// of aliens (+1 per alien hit). The aliens march sideways, and drop one row and turn when one
// reaches an edge; they move once every min(aliens left, interval) frames, so they speed up
// as they thin out, and the alien nearest the cannon fires every 10 frames. A cleared wave
// is replaced; with difficulty ramping each new wave's interval is one frame shorter (12 down
// to 6). An alien or enemy bullet reaching the cannon ends the episode.
// Channels: 0 cannon, 1 alien, 2 alien moving left, 3 alien moving right, 4 player bullet,
// 5 enemy bullet.
#pragma once

#include <array>

#include "envs/minatar/minatar.h"

namespace rl::minatar {

class SpaceInvaders {
 public:
  static constexpr int kChannels = 6;
  static constexpr const char* kName = "space_invaders";
  static constexpr bool kRamps = true;
  static constexpr std::array<int, 4> kMinimalActions = {kNoop, kLeft, kRight, kFire};
  static constexpr std::array<Color, kChannels> kChannelColors = {
      Color{240, 240, 240}, Color{80, 220, 80},  Color{60, 200, 120},
      Color{120, 220, 60},  Color{255, 230, 60}, Color{255, 80, 80}};

  static constexpr int kShotCoolDown = 5;
  static constexpr int kEnemyMoveInterval = 12;
  static constexpr int kEnemyShotInterval = 10;

  using Grid = std::array<uint8_t, kPlane>;  // [y * 10 + x], 1 = occupied.

  struct State {
    int cannon_x = 5;
    Grid aliens{}, player_bullets{}, enemy_bullets{};
    int alien_dir = -1;  // -1 left, +1 right.
    int enemy_move_interval = kEnemyMoveInterval;
    int alien_move_timer = kEnemyMoveInterval;
    int alien_shot_timer = kEnemyShotInterval;
    int shot_timer = 0;
    int ramp_index = 0;
  };

  explicit SpaceInvaders(bool ramping) : ramping_(ramping) {}

  void reset(Rng& rng);
  Outcome act(int action, Rng& rng);
  void write_observation(uint8_t* obs) const;

  State& state() { return s_; }
  const State& state() const { return s_; }

  // Fills rows 0..3, columns 2..7 with aliens (a new wave).
  static void spawn_wave(Grid& aliens);

 private:
  void move_aliens(Outcome& out);
  void alien_shoot();

  bool ramping_;
  State s_;
};

}  // namespace rl::minatar
