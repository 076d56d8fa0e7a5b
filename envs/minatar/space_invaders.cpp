#include "envs/minatar/space_invaders.h"

#include <algorithm>
#include <cstdlib>

namespace rl::minatar {
namespace {

using Grid = SpaceInvaders::Grid;

int count(const Grid& g) { return static_cast<int>(std::count(g.begin(), g.end(), uint8_t{1})); }

bool column_occupied(const Grid& g, int x) {
  for (int y = 0; y < kSize; ++y)
    if (g[y * kSize + x]) return true;
  return false;
}

bool row_occupied(const Grid& g, int y) {
  return std::any_of(g.begin() + y * kSize, g.begin() + (y + 1) * kSize,
                     [](uint8_t v) { return v != 0; });
}

// Moves every row down by one; the bottom row wraps to the top (numpy.roll semantics).
void roll_down(Grid& g) { std::rotate(g.begin(), g.end() - kSize, g.end()); }

// Shifts every row by one column in `dir`; callers ensure nothing sits on the edge it leaves.
void shift_columns(Grid& g, int dir) {
  if (dir > 0) {
    std::memmove(g.data() + 1, g.data(), kPlane - 1);
    for (int y = 0; y < kSize; ++y) g[y * kSize] = 0;
  } else {
    std::memmove(g.data(), g.data() + 1, kPlane - 1);
    for (int y = 0; y < kSize; ++y) g[y * kSize + kSize - 1] = 0;
  }
}

}  // namespace

void SpaceInvaders::spawn_wave(Grid& aliens) {
  for (int y = 0; y < 4; ++y)
    for (int x = 2; x < 8; ++x) aliens[y * kSize + x] = 1;
}

void SpaceInvaders::reset(Rng&) {
  s_ = State{};
  spawn_wave(s_.aliens);
}

void SpaceInvaders::move_aliens(Outcome& out) {
  Grid& aliens = s_.aliens;
  s_.alien_move_timer = std::min(count(aliens), s_.enemy_move_interval);
  const bool at_edge = (s_.alien_dir < 0 && column_occupied(aliens, 0)) ||
                       (s_.alien_dir > 0 && column_occupied(aliens, 9));
  if (at_edge) {
    s_.alien_dir = -s_.alien_dir;
    if (row_occupied(aliens, 9)) out.terminal = true;
    roll_down(aliens);
  } else {
    shift_columns(aliens, s_.alien_dir);
  }
  if (aliens[9 * kSize + s_.cannon_x]) out.terminal = true;
}

// The alien that fires is the lowest one in the occupied column nearest the cannon (ties:
// the column to the left).
void SpaceInvaders::alien_shoot() {
  for (int d = 0; d < kSize; ++d) {
    const int columns[2] = {s_.cannon_x - d, s_.cannon_x + d};
    for (int k = 0; k < (d == 0 ? 1 : 2); ++k) {
      const int x = columns[k];
      if (x < 0 || x > 9) continue;
      for (int y = kSize - 1; y >= 0; --y) {
        if (s_.aliens[y * kSize + x]) {
          s_.enemy_bullets[y * kSize + x] = 1;
          return;
        }
      }
    }
  }
}

Outcome SpaceInvaders::act(int action, Rng&) {
  Outcome out;
  if (action == kFire) {
    if (s_.shot_timer == 0) {
      s_.player_bullets[9 * kSize + s_.cannon_x] = 1;
      s_.shot_timer = kShotCoolDown;
    }
  } else if (action == kLeft) {
    s_.cannon_x = std::max(0, s_.cannon_x - 1);
  } else if (action == kRight) {
    s_.cannon_x = std::min(9, s_.cannon_x + 1);
  }

  // Player bullets rise one row (the top row leaves), enemy bullets fall one row.
  Grid& mine = s_.player_bullets;
  std::memmove(mine.data(), mine.data() + kSize, kPlane - kSize);
  std::fill(mine.end() - kSize, mine.end(), uint8_t{0});
  Grid& theirs = s_.enemy_bullets;
  std::memmove(theirs.data() + kSize, theirs.data(), kPlane - kSize);
  std::fill(theirs.begin(), theirs.begin() + kSize, uint8_t{0});
  if (theirs[9 * kSize + s_.cannon_x]) out.terminal = true;

  if (s_.aliens[9 * kSize + s_.cannon_x]) out.terminal = true;
  if (s_.alien_move_timer == 0) move_aliens(out);
  if (s_.alien_shot_timer == 0) {
    s_.alien_shot_timer = kEnemyShotInterval;
    alien_shoot();
  }

  // Branch-free so it vectorizes: cells hold 0 or 1.
  int kills = 0;
  for (int i = 0; i < kPlane; ++i) {
    const uint8_t hit = s_.aliens[i] & mine[i];
    kills += hit;
    s_.aliens[i] ^= hit;
    mine[i] ^= hit;
  }
  out.reward += kills;

  if (s_.shot_timer > 0) --s_.shot_timer;
  --s_.alien_move_timer;
  --s_.alien_shot_timer;
  if (count(s_.aliens) == 0) {
    if (s_.enemy_move_interval > 6 && ramping_) {
      --s_.enemy_move_interval;
      ++s_.ramp_index;
    }
    spawn_wave(s_.aliens);
  }
  return out;
}

void SpaceInvaders::write_observation(uint8_t* obs) const {
  std::memset(obs, 0, kPlane);
  mark(obs, 0, 9, s_.cannon_x);
  std::memcpy(obs + 1 * kPlane, s_.aliens.data(), kPlane);
  const int moving = s_.alien_dir < 0 ? 2 : 3;
  std::memcpy(obs + moving * kPlane, s_.aliens.data(), kPlane);
  std::memset(obs + (5 - moving) * kPlane, 0, kPlane);
  std::memcpy(obs + 4 * kPlane, s_.player_bullets.data(), kPlane);
  std::memcpy(obs + 5 * kPlane, s_.enemy_bullets.data(), kPlane);
}

RLCADE_REGISTER_ENV({minatar_entry<SpaceInvaders>(
    true, "MinAtar Space Invaders: shoot the marching aliens before they reach you", 3.f)});
RLCADE_REGISTER_ENV({minatar_entry<SpaceInvaders>(
    false, "MinAtar Space Invaders: shoot the marching aliens before they reach you", 3.f)});

}  // namespace rl::minatar
