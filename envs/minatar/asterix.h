// MinAtar Asterix. The player moves in the four directions on rows 1..8. Enemies and gold
// enter from the sides, one per row (8 slots); touching gold gives +1, touching an enemy ends
// the episode. With difficulty ramping, every ~100 frames spawns come faster and, every other
// time, everything moves faster.
// Channels: 0 player, 1 enemy, 2 trail (the cell behind each enemy/gold), 3 gold.
#pragma once

#include <array>

#include "envs/minatar/minatar.h"

namespace rl::minatar {

class Asterix {
 public:
  static constexpr int kChannels = 4;
  static constexpr const char* kName = "asterix";
  static constexpr bool kRamps = true;
  static constexpr std::array<int, 5> kMinimalActions = {kNoop, kLeft, kUp, kRight, kDown};
  static constexpr std::array<Color, kChannels> kChannelColors = {
      Color{240, 240, 240}, Color{230, 60, 60}, Color{90, 70, 110}, Color{255, 200, 40}};

  static constexpr int kRampInterval = 100;
  static constexpr int kInitialSpawnSpeed = 10;
  static constexpr int kInitialMoveSpeed = 5;
  static constexpr int kSlots = 8;  // Entity slot i lives on row i + 1.

  struct Entity {
    bool active = false;
    int x = 0, y = 0;
    bool moving_right = false;
    bool gold = false;
  };

  struct State {
    int player_x = 5, player_y = 5;
    std::array<Entity, kSlots> entities{};
    int spawn_speed = kInitialSpawnSpeed;  // Frames between spawns.
    int spawn_timer = kInitialSpawnSpeed;
    int move_speed = kInitialMoveSpeed;  // Frames between entity moves.
    int move_timer = kInitialMoveSpeed;
    int ramp_timer = kRampInterval;
    int ramp_index = 0;  // How many times the difficulty has ramped up.
  };

  explicit Asterix(bool ramping) : ramping_(ramping) {}

  void reset(Rng& rng);
  Outcome act(int action, Rng& rng);
  void write_observation(uint8_t* obs) const;

  State& state() { return s_; }
  const State& state() const { return s_; }

 private:
  void spawn_entity(Rng& rng);
  // Resolves the player touching entity `e`: gold is collected (+1), an enemy ends the game.
  void touch(Entity& e, Outcome& out) const;

  bool ramping_;
  State s_;
};

}  // namespace rl::minatar
