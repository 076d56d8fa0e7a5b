#include "envs/minatar/breakout.h"

#include <algorithm>

namespace rl::minatar {
namespace {

constexpr int kBrickTop = 1, kBrickRows = 3;

void build_wall(std::array<uint8_t, kPlane>& bricks) {
  std::fill(bricks.begin() + kBrickTop * kSize, bricks.begin() + (kBrickTop + kBrickRows) * kSize,
            uint8_t{1});
}

// Direction after bouncing off a side wall, the top or a brick (vertical flip), and after
// hitting the paddle with its corner (both flipped).
constexpr int kFlipX[4] = {1, 0, 3, 2};
constexpr int kFlipY[4] = {3, 2, 1, 0};
constexpr int kFlipBoth[4] = {2, 3, 0, 1};
constexpr int kStepX[4] = {-1, 1, 1, -1};
constexpr int kStepY[4] = {-1, -1, 1, 1};

}  // namespace

void Breakout::reset(Rng& rng) {
  s_ = State{};
  const bool from_right = rng.below(2) == 1;
  s_.ball_x = from_right ? 9 : 0;
  s_.ball_dir = from_right ? kDownLeft : kDownRight;
  s_.ball_y = 3;
  s_.last_x = s_.ball_x;
  s_.last_y = s_.ball_y;
  build_wall(s_.bricks);
}

Outcome Breakout::act(int action, Rng&) {
  Outcome out;
  if (action == kLeft) s_.paddle_x = std::max(0, s_.paddle_x - 1);
  if (action == kRight) s_.paddle_x = std::min(9, s_.paddle_x + 1);

  s_.last_x = s_.ball_x;
  s_.last_y = s_.ball_y;
  int new_x = s_.ball_x + kStepX[s_.ball_dir];
  int new_y = s_.ball_y + kStepY[s_.ball_dir];

  bool hit_brick_now = false;
  if (new_x < 0 || new_x > 9) {
    new_x = std::clamp(new_x, 0, 9);
    s_.ball_dir = kFlipX[s_.ball_dir];
  }
  if (new_y < 0) {
    new_y = 0;
    s_.ball_dir = kFlipY[s_.ball_dir];
  } else if (s_.bricks[new_y * kSize + new_x]) {
    hit_brick_now = true;
    // Only the first frame of contact breaks a brick and bounces; the reference lets the
    // ball enter a brick cell on the following frame.
    if (!s_.strike) {
      out.reward += 1;
      s_.strike = true;
      s_.bricks[new_y * kSize + new_x] = 0;
      new_y = s_.last_y;
      s_.ball_dir = kFlipY[s_.ball_dir];
    }
  } else if (new_y == 9) {
    if (std::none_of(s_.bricks.begin(), s_.bricks.end(), [](uint8_t b) { return b != 0; }))
      build_wall(s_.bricks);
    if (s_.ball_x == s_.paddle_x) {
      s_.ball_dir = kFlipY[s_.ball_dir];
      new_y = s_.last_y;
    } else if (new_x == s_.paddle_x) {
      s_.ball_dir = kFlipBoth[s_.ball_dir];
      new_y = s_.last_y;
    } else {
      out.terminal = true;
    }
  }
  if (!hit_brick_now) s_.strike = false;
  s_.ball_x = new_x;
  s_.ball_y = new_y;
  return out;
}

void Breakout::write_observation(uint8_t* obs) const {
  std::memset(obs, 0, 3 * kPlane);
  mark(obs, 0, 9, s_.paddle_x);
  mark(obs, 1, s_.ball_y, s_.ball_x);
  mark(obs, 2, s_.last_y, s_.last_x);
  std::memcpy(obs + 3 * kPlane, s_.bricks.data(), kPlane);
}

RLCADE_REGISTER_ENV({minatar_entry<Breakout>(
    true, "MinAtar Breakout: bounce the ball with the paddle to break bricks", 1.f)});
RLCADE_REGISTER_ENV({minatar_entry<Breakout>(
    false, "MinAtar Breakout: bounce the ball with the paddle to break bricks", 1.f)});

}  // namespace rl::minatar
