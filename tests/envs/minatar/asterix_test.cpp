// Asterix rules: gold, enemies, spawning from the sides, movement limits, difficulty ramp.
#include "envs/minatar/asterix.h"

#include <doctest/doctest.h>

#include "minatar_test_util.h"

namespace rl::minatar {
namespace {

using testing::Harness;
using A = Asterix;

int active_entities(const A::State& s) {
  int n = 0;
  for (const auto& e : s.entities) n += e.active;
  return n;
}

// Keeps the spawn and move timers away from zero so a test controls every entity.
void freeze_timers(A::State& s) {
  s.spawn_timer = 50;
  s.move_timer = 50;
}

TEST_CASE("Asterix: touching gold gives +1 and removes it") {
  Harness<A> h;
  A::State& s = h.game.state();
  freeze_timers(s);
  s.entities[4] = A::Entity{true, 6, 5, false, true};  // Row 5, right of the player.
  const Outcome out = h.act(kRight);
  CHECK(out.reward == 1);
  CHECK(!out.terminal);
  CHECK(!s.entities[4].active);
}

TEST_CASE("Asterix: gold moving onto the player is collected too") {
  Harness<A> h;
  A::State& s = h.game.state();
  s.spawn_timer = 50;
  s.move_timer = 0;
  s.entities[4] = A::Entity{true, 4, 5, true, true};
  const Outcome out = h.act(kNoop);
  CHECK(out.reward == 1);
  CHECK(!s.entities[4].active);
  CHECK(s.move_timer == s.move_speed - 1);
}

TEST_CASE("Asterix: an enemy touching the player ends the episode") {
  Harness<A> h;
  A::State& s = h.game.state();
  s.spawn_timer = 50;
  s.move_timer = 0;
  s.entities[4] = A::Entity{true, 6, 5, false, false};  // Moves left onto (5, 5).
  const Outcome out = h.act(kNoop);
  CHECK(out.terminal);
  CHECK(out.reward == 0);
}

TEST_CASE("Asterix: entities leave the board at the far side") {
  Harness<A> h;
  A::State& s = h.game.state();
  s.spawn_timer = 50;
  s.move_timer = 0;
  s.entities[0] = A::Entity{true, 9, 1, true, false};
  s.entities[1] = A::Entity{true, 0, 2, false, true};
  h.act(kNoop);
  CHECK(active_entities(s) == 0);
}

TEST_CASE("Asterix: the player stays on rows 1..8 and columns 0..9") {
  Harness<A> h;
  A::State& s = h.game.state();
  freeze_timers(s);
  s.player_x = 0, s.player_y = 1;
  h.act(kUp);
  h.act(kLeft);
  CHECK(s.player_x == 0);
  CHECK(s.player_y == 1);
  s.player_x = 9, s.player_y = 8;
  h.act(kDown);
  h.act(kRight);
  CHECK(s.player_x == 9);
  CHECK(s.player_y == 8);
}

TEST_CASE("Asterix: the first entity spawns on frame 11 at a side (and moves that frame)") {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Harness<A> h(true, seed);
    A::State& s = h.game.state();
    for (int frame = 1; frame <= 10; ++frame) h.act(kNoop);
    CHECK(active_entities(s) == 0);
    h.act(kNoop);
    REQUIRE(active_entities(s) == 1);
    for (const auto& e : s.entities) {
      if (!e.active) continue;
      CHECK(e.x == (e.moving_right ? 1 : 8));  // Frame 11 is also a move frame.
      CHECK(e.y == static_cast<int>(&e - s.entities.data()) + 1);
    }
    CHECK(s.spawn_timer == 9);
  }
}

TEST_CASE("Asterix: gold is about a third of the spawns") {
  Harness<A> h(true, 3);
  A::State& s = h.game.state();
  int gold = 0, total = 0;
  for (int i = 0; i < 3000; ++i) {
    for (auto& e : s.entities) e.active = false;
    s.spawn_timer = 0;
    s.move_timer = 50;
    h.act(kNoop);
    for (const auto& e : s.entities) {
      gold += e.active && e.gold;
      total += e.active;
    }
  }
  CHECK(total == 3000);
  CHECK(gold / 3000.0 == doctest::Approx(1.0 / 3.0).epsilon(0.1));
}

TEST_CASE("Asterix: difficulty ramps every 102 frames; speed every other ramp") {
  for (bool ramping : {true, false}) {
    Harness<A> h(ramping);
    A::State& s = h.game.state();
    auto play = [&](int frames) {
      for (int i = 0; i < frames; ++i) {
        for (auto& e : s.entities) e.active = false;  // Nothing can end the game.
        h.act(kNoop);
      }
    };
    play(101);
    CHECK(s.ramp_index == 0);
    play(1);
    CHECK(s.ramp_index == (ramping ? 1 : 0));
    CHECK(s.spawn_speed == (ramping ? 9 : 10));
    CHECK(s.move_speed == 5);  // Ramp 0 -> 1 does not speed movement up.
    play(101);
    CHECK(s.ramp_index == (ramping ? 1 : 0));
    play(1);
    CHECK(s.ramp_index == (ramping ? 2 : 0));
    CHECK(s.spawn_speed == (ramping ? 8 : 10));
    CHECK(s.move_speed == (ramping ? 4 : 5));
  }
}

TEST_CASE("Asterix: observation channels are player, enemy, trail, gold") {
  Harness<A> h;
  A::State& s = h.game.state();
  freeze_timers(s);
  s.entities[0] = A::Entity{true, 3, 1, true, false};   // Enemy moving right.
  s.entities[2] = A::Entity{true, 6, 3, false, true};   // Gold moving left.
  s.entities[7] = A::Entity{true, 0, 8, false, false};  // Its trail would be at x = 1.
  h.act(kNoop);
  CHECK(h.cell(0, 5, 5));
  CHECK(h.count(0) == 1);
  CHECK(h.cell(1, 1, 3));
  CHECK(h.cell(1, 8, 0));
  CHECK(h.count(1) == 2);
  CHECK(h.cell(3, 3, 6));
  CHECK(h.count(3) == 1);
  CHECK(h.cell(2, 1, 2));
  CHECK(h.cell(2, 3, 7));
  CHECK(h.cell(2, 8, 1));
  CHECK(h.count(2) == 3);
}

}  // namespace
}  // namespace rl::minatar
