// Breakout rules: bounces, brick hits, the paddle, missing the ball, the wall rebuild.
#include "envs/minatar/breakout.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "minatar_test_util.h"

namespace rl::minatar {
namespace {

using testing::Harness;
using B = Breakout;

int bricks_left(const B::State& s) {
  return static_cast<int>(std::count(s.bricks.begin(), s.bricks.end(), 1));
}

TEST_CASE("Breakout: reset puts the ball on row 3 at either side, heading down and inward") {
  bool seen_left = false, seen_right = false;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Harness<B> h(false, seed);
    const B::State& s = h.game.state();
    CHECK(s.ball_y == 3);
    CHECK(s.paddle_x == 4);
    CHECK(bricks_left(s) == 30);
    if (s.ball_x == 0) {
      seen_left = true;
      CHECK(s.ball_dir == B::kDownRight);
    } else {
      seen_right = true;
      CHECK(s.ball_x == 9);
      CHECK(s.ball_dir == B::kDownLeft);
    }
  }
  CHECK(seen_left);
  CHECK(seen_right);
}

TEST_CASE("Breakout: observation channels are paddle, ball, trail, bricks") {
  Harness<B> h;
  B::State& s = h.game.state();
  s.ball_x = 6, s.ball_y = 6, s.ball_dir = B::kDownRight;
  h.act(kLeft);
  CHECK(h.cell(0, 9, 3));  // Paddle moved from 4 to 3.
  CHECK(h.count(0) == 1);
  CHECK(h.cell(1, 7, 7));  // Ball.
  CHECK(h.count(1) == 1);
  CHECK(h.cell(2, 6, 6));  // Trail: where the ball was.
  CHECK(h.count(2) == 1);
  CHECK(h.count(3) == 30);
  for (int x = 0; x < 10; ++x) CHECK((h.cell(3, 1, x) && h.cell(3, 2, x) && h.cell(3, 3, x)));
}

TEST_CASE("Breakout: a brick hit gives +1, removes the brick and reflects the ball") {
  Harness<B> h;
  B::State& s = h.game.state();
  s.ball_x = 4, s.ball_y = 4, s.ball_dir = B::kUpRight;
  const Outcome hit = h.act(kNoop);
  CHECK(hit.reward == 1);
  CHECK(!hit.terminal);
  CHECK(s.bricks[3 * 10 + 5] == 0);
  CHECK(bricks_left(s) == 29);
  CHECK(s.ball_x == 5);
  CHECK(s.ball_y == 4);  // Bounced back to the row it came from.
  CHECK(s.ball_dir == B::kDownRight);
  const Outcome next = h.act(kNoop);
  CHECK(next.reward == 0);
  CHECK(s.ball_x == 6);
  CHECK(s.ball_y == 5);
}

TEST_CASE("Breakout: right after a hit the ball passes into a brick cell without breaking it") {
  Harness<B> h;
  B::State& s = h.game.state();
  s.ball_x = 4, s.ball_y = 4, s.ball_dir = B::kUpRight;
  s.strike = true;  // As if a brick was hit on the previous frame.
  const Outcome out = h.act(kNoop);
  CHECK(out.reward == 0);
  CHECK(s.ball_x == 5);
  CHECK(s.ball_y == 3);  // Inside the brick row.
  CHECK(bricks_left(s) == 30);
}

TEST_CASE("Breakout: side walls and the top reflect the ball") {
  Harness<B> h;
  B::State& s = h.game.state();
  s.ball_x = 9, s.ball_y = 5, s.ball_dir = B::kDownRight;
  h.act(kNoop);
  CHECK(s.ball_x == 9);
  CHECK(s.ball_y == 6);
  CHECK(s.ball_dir == B::kDownLeft);
  std::fill(s.bricks.begin(), s.bricks.end(), uint8_t{0});
  s.ball_x = 3, s.ball_y = 0, s.ball_dir = B::kUpLeft;
  h.act(kNoop);
  CHECK(s.ball_x == 2);
  CHECK(s.ball_y == 0);
  CHECK(s.ball_dir == B::kDownLeft);
}

TEST_CASE("Breakout: the paddle bounces the ball; its corner sends it back the way it came") {
  Harness<B> h;
  B::State& s = h.game.state();
  s.paddle_x = 4;
  s.ball_x = 4, s.ball_y = 8, s.ball_dir = B::kDownRight;
  Outcome out = h.act(kNoop);
  CHECK(!out.terminal);
  CHECK(s.ball_dir == B::kUpRight);
  CHECK(s.ball_x == 5);
  CHECK(s.ball_y == 8);

  s.ball_x = 3, s.ball_y = 8, s.ball_dir = B::kDownRight;  // Lands on the paddle's cell.
  out = h.act(kNoop);
  CHECK(!out.terminal);
  CHECK(s.ball_dir == B::kUpLeft);
  CHECK(s.ball_x == 4);
  CHECK(s.ball_y == 8);
}

TEST_CASE("Breakout: missing the ball ends the episode") {
  Harness<B> h;
  B::State& s = h.game.state();
  s.paddle_x = 7;
  s.ball_x = 2, s.ball_y = 8, s.ball_dir = B::kDownLeft;
  const Outcome out = h.act(kNoop);
  CHECK(out.terminal);
  CHECK(out.reward == 0);
  CHECK(s.ball_y == 9);
}

TEST_CASE("Breakout: a cleared wall is rebuilt when the ball reaches the paddle row") {
  Harness<B> h;
  B::State& s = h.game.state();
  std::fill(s.bricks.begin(), s.bricks.end(), uint8_t{0});
  s.ball_x = 4, s.ball_y = 7, s.ball_dir = B::kDownRight;
  h.act(kNoop);
  CHECK(bricks_left(s) == 0);  // Not yet: the ball is on row 8.
  s.paddle_x = 6;
  h.act(kNoop);  // Ball reaches row 9's level at x = 6, the paddle's cell.
  CHECK(bricks_left(s) == 30);
  for (int x = 0; x < 10; ++x) CHECK(s.bricks[1 * 10 + x] == 1);
}

TEST_CASE("Breakout: the paddle stops at the walls") {
  Harness<B> h;
  B::State& s = h.game.state();
  s.paddle_x = 0;
  s.ball_x = 5, s.ball_y = 5, s.ball_dir = B::kDownRight;
  h.act(kLeft);
  CHECK(s.paddle_x == 0);
  s.paddle_x = 9;
  h.act(kRight);
  CHECK(s.paddle_x == 9);
  h.act(kUp);  // Up, down and fire do nothing in Breakout.
  h.act(kFire);
  CHECK(s.paddle_x == 9);
}

}  // namespace
}  // namespace rl::minatar
