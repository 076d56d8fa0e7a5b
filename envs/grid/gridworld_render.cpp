// Draws a GridWorld with MiniGrid's look: its colour table and object shapes, grey grid
// lines, the agent as a red triangle pointing its way, and the cells the agent currently sees
// lightened.
#include <algorithm>
#include <cmath>
#include <vector>

#include "envs/grid/gridworld.h"

namespace rl::grid {
namespace {

constexpr rl::Color kPalette[kNumColors] = {{255, 0, 0},    {0, 255, 0},   {0, 0, 255},
                                            {112, 39, 195}, {255, 255, 0}, {100, 100, 100}};
constexpr rl::Color kBlack{0, 0, 0};
constexpr rl::Color kGridLine{100, 100, 100};
constexpr rl::Color kLavaOrange{255, 128, 0};
constexpr rl::Color kAgentRed{255, 0, 0};

rl::Color palette(Color c) { return kPalette[static_cast<int>(c)]; }
rl::Color scaled(rl::Color c, float s) {
  return {static_cast<uint8_t>(c.r * s), static_cast<uint8_t>(c.g * s),
          static_cast<uint8_t>(c.b * s)};
}

// A tile of `size` pixels at (x0, y0); shapes are given in tile fractions like MiniGrid's.
struct Tile {
  Image& img;
  int x0, y0, size;

  int px(float f) const { return x0 + static_cast<int>(std::lround(f * size)); }
  int py(float f) const { return y0 + static_cast<int>(std::lround(f * size)); }
  void rect(float fx0, float fx1, float fy0, float fy1, rl::Color c) const {
    fill_rect(img, px(fx0), py(fy0), px(fx1) - px(fx0), py(fy1) - py(fy0), c);
  }
  void circle(float cx, float cy, float r, rl::Color c) const {
    fill_circle(img, x0 + cx * size, y0 + cy * size, r * size, c);
  }
  void line(float fx0, float fy0, float fx1, float fy1, float thickness, rl::Color c) const {
    draw_line(img, x0 + fx0 * size, y0 + fy0 * size, x0 + fx1 * size, y0 + fy1 * size,
              std::max(1.f, thickness * size), c);
  }
};

void draw_door(const Tile& t, const Cell& cell) {
  const rl::Color c = palette(cell.color);
  switch (cell.door_state()) {
    case DoorState::kOpen:
      t.rect(0.88f, 1.f, 0.f, 1.f, c);
      t.rect(0.92f, 0.96f, 0.04f, 0.96f, kBlack);
      break;
    case DoorState::kLocked:
      t.rect(0.f, 1.f, 0.f, 1.f, c);
      t.rect(0.06f, 0.94f, 0.06f, 0.94f, scaled(c, 0.45f));
      t.rect(0.52f, 0.75f, 0.50f, 0.56f, c);  // Key slot.
      break;
    case DoorState::kClosed:
      t.rect(0.f, 1.f, 0.f, 1.f, c);
      t.rect(0.04f, 0.96f, 0.04f, 0.96f, kBlack);
      t.rect(0.08f, 0.92f, 0.08f, 0.92f, c);
      t.rect(0.12f, 0.88f, 0.12f, 0.88f, kBlack);
      t.circle(0.75f, 0.50f, 0.08f, c);  // Handle.
      break;
  }
}

void draw_key(const Tile& t, rl::Color c) {
  t.rect(0.50f, 0.63f, 0.31f, 0.88f, c);  // Shaft.
  t.rect(0.38f, 0.50f, 0.59f, 0.66f, c);  // Teeth.
  t.rect(0.38f, 0.50f, 0.81f, 0.88f, c);
  t.circle(0.56f, 0.28f, 0.190f, c);  // Ring.
  t.circle(0.56f, 0.28f, 0.064f, kBlack);
}

void draw_lava(const Tile& t) {
  t.rect(0.f, 1.f, 0.f, 1.f, kLavaOrange);
  for (int i = 0; i < 3; ++i) {  // Three rows of waves.
    const float lo = 0.3f + 0.2f * i, hi = 0.4f + 0.2f * i;
    t.line(0.1f, lo, 0.3f, hi, 0.06f, kBlack);
    t.line(0.3f, hi, 0.5f, lo, 0.06f, kBlack);
    t.line(0.5f, lo, 0.7f, hi, 0.06f, kBlack);
    t.line(0.7f, hi, 0.9f, lo, 0.06f, kBlack);
  }
}

void draw_object(const Tile& t, const Cell& cell) {
  const rl::Color c = palette(cell.color);
  switch (cell.type) {
    case Object::kWall:
    case Object::kGoal:
      t.rect(0.f, 1.f, 0.f, 1.f, c);
      break;
    case Object::kFloor:
      t.rect(0.031f, 1.f, 0.031f, 1.f, scaled(c, 0.5f));
      break;
    case Object::kLava:
      draw_lava(t);
      break;
    case Object::kDoor:
      draw_door(t, cell);
      break;
    case Object::kKey:
      draw_key(t, c);
      break;
    case Object::kBall:
      t.circle(0.5f, 0.5f, 0.31f, c);
      break;
    case Object::kBox:
      t.rect(0.12f, 0.88f, 0.12f, 0.88f, c);
      t.rect(0.18f, 0.82f, 0.18f, 0.82f, kBlack);
      t.rect(0.16f, 0.84f, 0.47f, 0.53f, c);  // Lid slit.
      break;
    default:
      break;
  }
}

// The agent: a triangle pointing right, rotated by dir quarter turns about the tile centre.
void draw_agent(const Tile& t, int dir) {
  const float pts[3][2] = {{0.12f, 0.19f}, {0.87f, 0.50f}, {0.12f, 0.81f}};
  const float angle = 0.5f * static_cast<float>(M_PI) * dir;
  const float cs = std::cos(angle), sn = std::sin(angle);
  float xy[6];
  for (int i = 0; i < 3; ++i) {
    const float dx = pts[i][0] - 0.5f, dy = pts[i][1] - 0.5f;
    xy[2 * i] = t.x0 + (0.5f + dx * cs - dy * sn) * t.size;
    xy[2 * i + 1] = t.y0 + (0.5f + dx * sn + dy * cs) * t.size;
  }
  fill_triangle(t.img, xy[0], xy[1], xy[2], xy[3], xy[4], xy[5], kAgentRed);
}

}  // namespace

void GridWorld::do_render(Image& out) const {
  const int w = grid_.width(), h = grid_.height();
  const int tile = std::clamp(640 / std::max(w, h), 8, 32);
  out.resize(w * tile, h * tile, kBlack);

  std::vector<uint8_t> highlight(static_cast<size_t>(w) * h, 0);
  View view;
  compute_view(view);
  for (int vy = 0; vy < kViewSize; ++vy)
    for (int vx = 0; vx < kViewSize; ++vx) {
      const Pos p = view_to_world(vx, vy);
      if (view.visible[vy][vx] && grid_.contains(p)) highlight[p.y * w + p.x] = 1;
    }

  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const Tile t{out, x * tile, y * tile, tile};
      const int line = std::max(1, tile / 32);  // Top and left edges, as MiniGrid draws them.
      fill_rect(out, t.x0, t.y0, line, tile, kGridLine);
      fill_rect(out, t.x0, t.y0, tile, line, kGridLine);
      draw_object(t, grid_.at(x, y));
      if (Pos{x, y} == agent_pos_) draw_agent(t, agent_dir_);
      if (highlight[y * w + x]) blend_rect(out, t.x0, t.y0, tile, tile, {255, 255, 255}, 0.3f);
    }
}

}  // namespace rl::grid
