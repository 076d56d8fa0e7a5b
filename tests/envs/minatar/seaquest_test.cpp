// Seaquest rules: oxygen, surfacing (with and without divers, the 6-diver bonus), shooting,
// rescuing divers, enemy contact, spawning.
#include "envs/minatar/seaquest.h"

#include <doctest/doctest.h>

#include "minatar_test_util.h"

namespace rl::minatar {
namespace {

using testing::Harness;
using S = Seaquest;

// Stops enemy and diver spawns so a test controls everything on the board.
void no_spawns(S::State& s) {
  s.enemy_spawn_timer = 100000;
  s.diver_spawn_timer = 100000;
}

TEST_CASE("Seaquest: oxygen lasts 200 frames under water, then the episode ends") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  h.act(kDown);
  CHECK(s.oxygen == 199);
  CHECK(h.count(7) == 9);  // 199 * 10 / 200 -> 9 cells of the oxygen bar.
  int frames = 1;
  Outcome out;
  do {
    out = h.act(kNoop);
    ++frames;
    REQUIRE(frames <= 201);
  } while (!out.terminal);
  CHECK(frames == 201);
  CHECK(h.count(7) == 0);  // The bar never shows a negative level as full.
}

TEST_CASE("Seaquest: surfacing without a diver ends the episode") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  h.act(kDown);
  const Outcome out = h.act(kUp);
  CHECK(out.terminal);
  CHECK(out.reward == 0);
}

TEST_CASE("Seaquest: surfacing with some divers costs one, refills oxygen and ramps difficulty") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  h.act(kDown);
  s.diver_count = 3;
  s.oxygen = 57;
  const Outcome out = h.act(kUp);
  CHECK(!out.terminal);
  CHECK(out.reward == 0);
  CHECK(s.diver_count == 2);
  CHECK(s.oxygen == 200);
  CHECK(s.enemy_spawn_speed == 19);
  CHECK(s.ramp_index == 1);
  CHECK(s.move_speed == 5);  // Enemies speed up on every other surfacing.
  CHECK(h.count(8) == 2);    // Diver bar: cells 7 and 8 of the bottom row.
  CHECK((h.cell(8, 9, 7) && h.cell(8, 9, 8)));
  h.act(kNoop);  // Staying at the surface does not surface again.
  CHECK(s.diver_count == 2);
  CHECK(s.ramp_index == 1);
}

TEST_CASE("Seaquest: surfacing with 6 divers pays one point per 20 units of oxygen left") {
  for (bool ramping : {true, false}) {
    Harness<S> h(ramping);
    S::State& s = h.game.state();
    no_spawns(s);
    h.act(kDown);
    s.diver_count = 6;
    s.oxygen = 150;
    const Outcome out = h.act(kUp);
    CHECK(!out.terminal);
    CHECK(out.reward == 7);  // 150 * 10 / 200.
    CHECK(s.oxygen == 200);
    CHECK(s.diver_count == -1);  // The reference's count after the bonus (see seaquest.h).
    CHECK(h.count(8) == 0);
    CHECK(s.ramp_index == (ramping ? 1 : 0));
  }
}

TEST_CASE("Seaquest: a player bullet kills a fish (+1) and both disappear") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  s.sub_x = 5, s.sub_y = 3, s.facing_right = true;
  s.fish.push_back(S::Swimmer{7, 3, false, 3, 0});
  Outcome out = h.act(kFire);
  CHECK(out.reward == 0);
  REQUIRE(s.player_bullets.size() == 1);
  CHECK(s.player_bullets[0].x == 6);
  CHECK(h.cell(2, 3, 6));
  out = h.act(kNoop);
  CHECK(out.reward == 1);
  CHECK(s.fish.empty());
  CHECK(s.player_bullets.empty());
  CHECK(s.shot_timer == 3);
}

TEST_CASE("Seaquest: an enemy sub moving onto a player bullet dies (+1)") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  s.sub_x = 0, s.sub_y = 8;
  s.player_bullets.push_back(S::Bullet{3, 4, true});  // Moves to x = 4 first...
  s.subs.push_back(S::Swimmer{5, 4, false, 0, 5});    // ...then the sub moves onto it.
  const Outcome out = h.act(kNoop);
  CHECK(out.reward == 1);
  CHECK(s.subs.empty());
  CHECK(s.player_bullets.empty());
}

TEST_CASE("Seaquest: touching a diver rescues it, up to 6") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  s.sub_x = 5, s.sub_y = 3;
  s.divers.push_back(S::Swimmer{6, 3, false, 0, 0});  // Swims onto the sub this frame.
  h.act(kNoop);
  CHECK(s.divers.empty());
  CHECK(s.diver_count == 1);
  CHECK(h.cell(8, 9, 8));

  s.diver_count = 6;
  s.divers.push_back(S::Swimmer{5, 3, false, 2, 0});
  h.act(kNoop);
  CHECK(s.divers.size() == 1);  // A full sub leaves the diver in the water.
  CHECK(s.diver_count == 6);
}

TEST_CASE("Seaquest: fish, enemy subs and enemy bullets end the episode on contact") {
  SUBCASE("fish") {
    Harness<S> h;
    S::State& s = h.game.state();
    no_spawns(s);
    s.sub_x = 5, s.sub_y = 3;
    s.fish.push_back(S::Swimmer{4, 3, true, 0, 0});
    CHECK(h.act(kNoop).terminal);
  }
  SUBCASE("enemy sub") {
    Harness<S> h;
    S::State& s = h.game.state();
    no_spawns(s);
    s.sub_x = 5, s.sub_y = 3;
    s.subs.push_back(S::Swimmer{6, 3, false, 0, 5});
    CHECK(h.act(kNoop).terminal);
  }
  SUBCASE("enemy bullet") {
    Harness<S> h;
    S::State& s = h.game.state();
    no_spawns(s);
    s.sub_x = 5, s.sub_y = 3;
    s.enemy_bullets.push_back(S::Bullet{7, 3, false});
    CHECK(!h.act(kNoop).terminal);
    CHECK(h.act(kNoop).terminal);
  }
}

TEST_CASE("Seaquest: enemy subs fire every 11 frames in their direction") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  s.sub_x = 5, s.sub_y = 8;
  s.subs.push_back(S::Swimmer{2, 2, true, 1000, 0});
  h.act(kNoop);
  REQUIRE(s.enemy_bullets.size() == 1);
  CHECK(s.enemy_bullets[0].x == 3);  // Fired from x = 2 and moved once.
  CHECK(s.enemy_bullets[0].moving_right);
  CHECK(h.cell(4, 2, 3));
  for (int i = 0; i < 10; ++i) h.act(kNoop);
  CHECK(s.enemy_bullets.empty());  // The first left the board; the next is not fired yet.
  h.act(kNoop);
  CHECK(s.enemy_bullets.size() == 1);
  CHECK(s.enemy_bullets.back().x == 3);
}

TEST_CASE("Seaquest: enemies never spawn into a lane with an enemy going the other way") {
  Harness<S> h(true, 9);
  S::State& s = h.game.state();
  for (int y = 1; y <= 8; ++y) s.fish.push_back(S::Swimmer{5, y, true, 100000, 0});
  s.sub_x = 0, s.sub_y = 0;
  for (int i = 0; i < 300; ++i) {
    s.enemy_spawn_timer = 0;
    s.diver_spawn_timer = 100000;
    h.act(kNoop);
  }
  CHECK(s.fish.size() + s.subs.size() > 8);
  for (const auto& e : s.fish) CHECK(e.moving_right);
  for (const auto& e : s.subs) CHECK(e.moving_right);
}

TEST_CASE("Seaquest: observation channels") {
  Harness<S> h;
  S::State& s = h.game.state();
  no_spawns(s);
  s.sub_x = 4, s.sub_y = 2, s.facing_right = true;
  s.fish.push_back(S::Swimmer{7, 5, false, 50, 0});
  s.subs.push_back(S::Swimmer{2, 6, true, 50, 50});
  s.divers.push_back(S::Swimmer{5, 7, true, 50, 0});
  s.enemy_bullets.push_back(S::Bullet{8, 1, false});
  s.diver_count = 4;
  h.act(kNoop);
  CHECK(h.cell(0, 2, 4));  // Sub front.
  CHECK(h.cell(1, 2, 3));  // Sub back (facing right).
  CHECK(h.cell(5, 5, 7));  // Fish, trail behind it at x = 8.
  CHECK(h.cell(3, 5, 8));
  CHECK(h.cell(6, 6, 2));  // Enemy sub, trail at x = 1.
  CHECK(h.cell(3, 6, 1));
  CHECK(h.cell(9, 7, 5));  // Diver, trail at x = 4.
  CHECK(h.cell(3, 7, 4));
  CHECK(h.cell(4, 1, 7));  // Enemy bullet moved left.
  CHECK(h.count(7) == 9);  // Oxygen 199.
  CHECK(h.count(8) == 4);
}

}  // namespace
}  // namespace rl::minatar
