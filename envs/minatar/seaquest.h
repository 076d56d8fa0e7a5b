// MinAtar Seaquest. The player's submarine (front and back cell) shoots fish and enemy subs
// (+1 each), rescues divers (up to 6) and must surface for oxygen, which runs out after 200
// frames under water. Surfacing with no diver ends the episode; with fewer than 6 it costs
// one diver; with 6 it pays the remaining oxygen (one point per 20 units) and empties the
// diver bar. Enemies, enemy bullets and lack of oxygen end the episode. With difficulty
// ramping, each surfacing spawns enemies faster and, every other time, moves them faster.
//
// Reference quirk kept on purpose: after surfacing with 6 divers the reference sets the diver
// count to 0 and then removes one more, leaving -1 (the bar shows nothing); the next
// surfacing then succeeds without a diver. Behaviour from the reference v1.0.11 on: oxygen
// ends the game on the frame it is found at 0 and the oxygen bar never shows a negative level.
//
// Channels: 0 sub front, 1 sub back, 2 player bullet, 3 trail (behind fish, subs and divers),
// 4 enemy bullet, 5 enemy fish, 6 enemy sub, 7 oxygen bar, 8 diver bar, 9 diver.
#pragma once

#include <array>
#include <vector>

#include "envs/minatar/minatar.h"

namespace rl::minatar {

class Seaquest {
 public:
  static constexpr int kChannels = 10;
  static constexpr const char* kName = "seaquest";
  static constexpr bool kRamps = true;
  static constexpr std::array<int, 6> kMinimalActions = {kNoop, kLeft, kUp, kRight, kDown, kFire};
  static constexpr std::array<Color, kChannels> kChannelColors = {
      Color{255, 230, 60},  Color{200, 170, 40}, Color{255, 255, 255}, Color{70, 60, 90},
      Color{255, 120, 200}, Color{80, 200, 120}, Color{230, 60, 60},   Color{60, 160, 255},
      Color{250, 150, 40},  Color{180, 120, 255}};

  static constexpr int kMaxOxygen = 200;
  static constexpr int kMaxDivers = 6;
  static constexpr int kInitialSpawnSpeed = 20;  // Frames between enemy spawns.
  static constexpr int kDiverSpawnSpeed = 30;
  static constexpr int kInitialMoveSpeed = 5;  // Idle frames between enemy moves.
  static constexpr int kShotCoolDown = 5;
  static constexpr int kEnemyShotInterval = 10;
  static constexpr int kDiverMoveInterval = 5;

  struct Bullet {
    int x = 0, y = 0;
    bool moving_right = false;
  };
  // A fish, an enemy sub (shot_timer used) or a diver.
  struct Swimmer {
    int x = 0, y = 0;
    bool moving_right = false;
    int move_timer = 0;
    int shot_timer = 0;
  };

  // Lists keep the reference's order (new entries at the back), which decides ties.
  struct State {
    int sub_x = 5, sub_y = 0;
    bool facing_right = false;
    int oxygen = kMaxOxygen;
    int diver_count = 0;
    bool surfaced = true;  // The sub has been at the surface since it last surfaced.
    int shot_timer = 0;
    int enemy_spawn_speed = kInitialSpawnSpeed;
    int enemy_spawn_timer = kInitialSpawnSpeed;
    int diver_spawn_timer = kDiverSpawnSpeed;
    int move_speed = kInitialMoveSpeed;
    int ramp_index = 0;
    std::vector<Bullet> player_bullets, enemy_bullets;
    std::vector<Swimmer> fish, subs, divers;
  };

  // Reserves list capacity up front so that playing never allocates.
  explicit Seaquest(bool ramping);

  void reset(Rng& rng);
  Outcome act(int action, Rng& rng);
  void write_observation(uint8_t* obs) const;

  State& state() { return s_; }
  const State& state() const { return s_; }

 private:
  void move_player(int action);
  void update_player_bullets(Outcome& out);
  void update_divers();
  void update_enemies(std::vector<Swimmer>& enemies, bool shoot, Outcome& out);
  void update_enemy_bullets(Outcome& out);
  void update_oxygen(Outcome& out);
  int surface();
  void spawn_enemy(Rng& rng);
  void spawn_diver(Rng& rng);
  bool at_player(int x, int y) const { return x == s_.sub_x && y == s_.sub_y; }

  bool ramping_;
  State s_;
};

}  // namespace rl::minatar
