// Space Invaders rules: the march, speed-up as aliens thin out, shooting, waves, enemy fire.
#include "envs/minatar/space_invaders.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "minatar_test_util.h"

namespace rl::minatar {
namespace {

using testing::Harness;
using SI = SpaceInvaders;

int alien_count(const SI::State& s) {
  return static_cast<int>(std::count(s.aliens.begin(), s.aliens.end(), 1));
}
void place_aliens(SI::State& s, std::initializer_list<std::pair<int, int>> cells) {
  s.aliens.fill(0);
  for (auto [y, x] : cells) s.aliens[y * 10 + x] = 1;
}

TEST_CASE("Space Invaders: a full wave first moves on frame 13, then every 12 frames") {
  Harness<SI> h;
  SI::State& s = h.game.state();
  s.alien_shot_timer = 1000;
  std::vector<int> move_frames;
  for (int frame = 1; frame <= 40; ++frame) {
    const SI::Grid before = s.aliens;
    h.act(kNoop);
    if (s.aliens != before) move_frames.push_back(frame);
  }
  CHECK(move_frames == std::vector<int>{13, 25, 37});
  // Two steps left reach column 0; the third move drops a row and turns right.
  CHECK(s.aliens[1 * 10 + 0] == 1);
  CHECK(s.aliens[0 * 10 + 0] == 0);
  CHECK(s.alien_dir == 1);
}

TEST_CASE("Space Invaders: aliens speed up as they thin out") {
  for (int aliens : {1, 2, 5, 12, 20}) {
    Harness<SI> h;
    SI::State& s = h.game.state();
    s.alien_shot_timer = 1000;
    s.aliens.fill(0);
    for (int i = 0; i < aliens; ++i) s.aliens[(i / 5) * 10 + 3 + i % 5] = 1;
    s.alien_move_timer = 0;
    h.act(kNoop);  // Moves now and re-arms the timer with min(aliens, 12).
    CHECK(s.alien_move_timer == std::min(aliens, 12) - 1);
  }
}

TEST_CASE("Space Invaders: at an edge the aliens drop one row and turn around") {
  Harness<SI> h;
  SI::State& s = h.game.state();
  s.alien_shot_timer = 1000;
  place_aliens(s, {{2, 0}, {2, 1}, {3, 4}});
  s.alien_dir = -1;
  s.alien_move_timer = 0;
  h.act(kNoop);
  CHECK(s.alien_dir == 1);
  CHECK(s.aliens[3 * 10 + 0] == 1);
  CHECK(s.aliens[3 * 10 + 1] == 1);
  CHECK(s.aliens[4 * 10 + 4] == 1);
  CHECK(alien_count(s) == 3);
  h.observe();
  CHECK(h.count(3) == 3);  // Direction channel: now moving right.
  CHECK(h.count(2) == 0);
  s.alien_move_timer = 0;
  h.act(kNoop);
  CHECK(s.aliens[3 * 10 + 1] == 1);
  CHECK(s.aliens[3 * 10 + 2] == 1);
  CHECK(s.aliens[4 * 10 + 5] == 1);
}

TEST_CASE("Space Invaders: a bullet hitting an alien gives +1 and removes both") {
  Harness<SI> h;
  SI::State& s = h.game.state();
  s.alien_shot_timer = 1000;
  s.alien_move_timer = 1000;
  s.cannon_x = 5;
  const Outcome fire = h.act(kFire);
  CHECK(fire.reward == 0);
  CHECK(s.player_bullets[8 * 10 + 5] == 1);  // Fired from row 9 and moved up at once.
  CHECK(s.shot_timer == 4);
  int reward = 0, frames = 1;
  while (reward == 0 && frames < 10) {
    reward += h.act(kNoop).reward;
    ++frames;
  }
  CHECK(reward == 1);
  CHECK(frames == 6);  // Rows 7, 6, 5, 4, 3: the bottom alien of column 5 is on row 3.
  CHECK(s.aliens[3 * 10 + 5] == 0);
  CHECK(alien_count(s) == 23);
  CHECK(std::count(s.player_bullets.begin(), s.player_bullets.end(), 1) == 0);
}

TEST_CASE("Space Invaders: a cleared wave is replaced by a faster one when ramping") {
  for (bool ramping : {true, false}) {
    Harness<SI> h(ramping);
    SI::State& s = h.game.state();
    s.alien_shot_timer = 1000;
    s.alien_move_timer = 1000;
    place_aliens(s, {{4, 5}});
    s.player_bullets[5 * 10 + 5] = 1;
    const Outcome out = h.act(kNoop);
    CHECK(out.reward == 1);
    CHECK(alien_count(s) == 24);
    for (int y = 0; y < 4; ++y)
      for (int x = 2; x < 8; ++x) CHECK(s.aliens[y * 10 + x] == 1);
    CHECK(s.enemy_move_interval == (ramping ? 11 : 12));
    CHECK(s.ramp_index == (ramping ? 1 : 0));
  }
}

TEST_CASE("Space Invaders: the alien nearest the cannon fires (lowest in its column, left wins)") {
  Harness<SI> h;
  SI::State& s = h.game.state();
  s.alien_move_timer = 1000;
  s.cannon_x = 4;
  place_aliens(s, {{0, 2}, {1, 2}, {0, 6}, {0, 9}});
  s.alien_shot_timer = 0;
  h.act(kNoop);
  CHECK(s.enemy_bullets[1 * 10 + 2] == 1);
  CHECK(std::count(s.enemy_bullets.begin(), s.enemy_bullets.end(), 1) == 1);
  CHECK(s.alien_shot_timer == 9);
  h.act(kNoop);
  CHECK(s.enemy_bullets[2 * 10 + 2] == 1);  // Falls one row per frame.
}

TEST_CASE("Space Invaders: an enemy bullet or an alien reaching the cannon ends the episode") {
  SUBCASE("bullet") {
    Harness<SI> h;
    SI::State& s = h.game.state();
    s.alien_shot_timer = 1000;
    s.enemy_bullets[8 * 10 + 5] = 1;
    CHECK(h.act(kNoop).terminal);
  }
  SUBCASE("bullet dodged") {
    Harness<SI> h;
    SI::State& s = h.game.state();
    s.alien_shot_timer = 1000;
    s.enemy_bullets[8 * 10 + 5] = 1;
    CHECK(!h.act(kLeft).terminal);
  }
  SUBCASE("alien") {
    Harness<SI> h;
    SI::State& s = h.game.state();
    s.alien_shot_timer = 1000;
    place_aliens(s, {{8, 0}, {8, 5}});
    s.alien_dir = -1;
    s.alien_move_timer = 0;
    CHECK(h.act(kNoop).terminal);  // The edge drop brings the alien at x = 5 onto row 9.
  }
}

TEST_CASE("Space Invaders: the cannon fires at most every 5 frames") {
  Harness<SI> h;
  SI::State& s = h.game.state();
  s.alien_shot_timer = 1000;
  s.alien_move_timer = 1000;
  s.cannon_x = 0;  // No alien above: bullets fly off the top.
  int shots = 0;
  for (int frame = 0; frame < 20; ++frame) {
    h.act(kFire);
    shots += s.player_bullets[8 * 10 + 0];
  }
  CHECK(shots == 4);
}

}  // namespace
}  // namespace rl::minatar
