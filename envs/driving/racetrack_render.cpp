// Drawing for the racetrack: the u8 image observation (car-centred, heading-up) and render()
// (whole track, car, rays, driven line, HUD).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "envs/driving/font.h"
#include "envs/driving/racetrack.h"

namespace rl::driving {
namespace {

// Planar (channels-first) u8 canvas for the image observation.
struct PlanarCanvas {
  uint8_t* pixels;
  int size;
  int channels;

  // Fills a convex polygon given as n (x, y) pixel coordinates; pixel centres inside are set.
  void fill_convex(const float* xy, int n, const uint8_t* color) const {
    float ymin = xy[1], ymax = xy[1];
    for (int i = 1; i < n; ++i)
      ymin = std::min(ymin, xy[2 * i + 1]), ymax = std::max(ymax, xy[2 * i + 1]);
    const int row0 = std::max(0, static_cast<int>(std::ceil(ymin - 0.5f)));
    const int row1 = std::min(size - 1, static_cast<int>(std::floor(ymax - 0.5f)));
    for (int y = row0; y <= row1; ++y) {
      const float sy = y + 0.5f;
      float x_lo = 1e30f, x_hi = -1e30f;
      for (int i = 0; i < n; ++i) {
        const float ax = xy[2 * i], ay = xy[2 * i + 1];
        const float bx = xy[2 * ((i + 1) % n)], by = xy[2 * ((i + 1) % n) + 1];
        if ((ay <= sy) == (by <= sy)) continue;
        const float x = ax + (sy - ay) / (by - ay) * (bx - ax);
        x_lo = std::min(x_lo, x);
        x_hi = std::max(x_hi, x);
      }
      const int x0 = std::max(0, static_cast<int>(std::ceil(x_lo - 0.5f)));
      const int x1 = std::min(size - 1, static_cast<int>(std::floor(x_hi - 0.5f)));
      for (int c = 0; c < channels; ++c) {
        uint8_t* row = pixels + (static_cast<size_t>(c) * size + y) * size;
        for (int x = x0; x <= x1; ++x) row[x] = color[c];
      }
    }
  }
};

// Observation colours: gray levels, or RGB for 3 channels.
constexpr uint8_t kGrassGray[3] = {40, 40, 40}, kGrassRgb[3] = {60, 140, 60};
constexpr uint8_t kRoadGray[3] = {120, 120, 120}, kRoadRgb[3] = {110, 110, 110};
constexpr uint8_t kLineGray[3] = {200, 200, 200}, kLineRgb[3] = {240, 240, 240};
constexpr uint8_t kCarGray[3] = {255, 255, 255}, kCarRgb[3] = {220, 30, 30};

// Corners of the car body (scaled by `grow`) in world coordinates, as x,y pairs.
void car_corners(const CarState& car, const CarParams& params, double grow, Vec2 out[4]) {
  const Vec2 f = car.forward() * (0.5 * params.length * grow);
  const Vec2 l = perp(car.forward()) * (0.5 * params.width * grow);
  out[0] = car.position + f + l;
  out[1] = car.position + f - l;
  out[2] = car.position - f - l;
  out[3] = car.position - f + l;
}

}  // namespace

void Racetrack::write_image(uint8_t* out) const {
  const int size = config_.image_size, channels = config_.image_channels;
  const bool rgb = channels == 3;
  const PlanarCanvas canvas{out, size, channels};
  const uint8_t* grass = rgb ? kGrassRgb : kGrassGray;
  for (int c = 0; c < channels; ++c)
    std::fill(out + static_cast<size_t>(c) * size * size,
              out + static_cast<size_t>(c + 1) * size * size, grass[c]);

  const double px_per_m = size / config_.image_view;
  const Vec2 fwd = car_.forward(), left = perp(fwd);
  const float half = 0.5f * size;
  auto to_px = [&](Vec2 p, float* xy) {
    const Vec2 rel = p - car_.position;
    xy[0] = half - static_cast<float>(dot(rel, left) * px_per_m);
    xy[1] = half - static_cast<float>(dot(rel, fwd) * px_per_m);
  };
  const double visible = 0.75 * config_.image_view + 2.0 * track_.half_width() + 10.0;
  float xy[8];
  for (int i = 0; i < track_.size(); ++i) {
    if ((track_.centre(i) - car_.position).norm() > visible) continue;
    const int j = track_.next(i);
    to_px(track_.left(i), xy);
    to_px(track_.left(j), xy + 2);
    to_px(track_.right(j), xy + 4);
    to_px(track_.right(i), xy + 6);
    canvas.fill_convex(xy, 4, rgb ? kRoadRgb : kRoadGray);
  }
  if ((track_.centre(0) - car_.position).norm() <= visible) {
    const Vec2 along = unit(track_.heading(0)) * 1.5;
    to_px(track_.left(0), xy);
    to_px(track_.left(0) + along, xy + 2);
    to_px(track_.right(0) + along, xy + 4);
    to_px(track_.right(0), xy + 6);
    canvas.fill_convex(xy, 4, rgb ? kLineRgb : kLineGray);
  }
  Vec2 body[4];
  car_corners(car_, config_.car, 1.0, body);
  for (int k = 0; k < 4; ++k) to_px(body[k], xy + 2 * k);
  canvas.fill_convex(xy, 4, rgb ? kCarRgb : kCarGray);
}

void Racetrack::do_render(Image& out) const {
  constexpr int kSize = 640, kMargin = 24;
  out.resize(kSize, kSize, {60, 140, 60});
  double min_x = 1e30, min_y = 1e30, max_x = -1e30, max_y = -1e30;
  for (int i = 0; i < track_.size(); ++i)
    for (const Vec2& p : {track_.left(i), track_.right(i)}) {
      min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
      min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
    }
  const double scale = (kSize - 2.0 * kMargin) / std::max({max_x - min_x, max_y - min_y, 1.0});
  const double off_x = kMargin + 0.5 * ((kSize - 2.0 * kMargin) - (max_x - min_x) * scale);
  const double off_y = kMargin + 0.5 * ((kSize - 2.0 * kMargin) - (max_y - min_y) * scale);
  auto sx = [&](Vec2 p) { return static_cast<float>(off_x + (p.x - min_x) * scale); };
  auto sy = [&](Vec2 p) { return static_cast<float>(kSize - off_y - (p.y - min_y) * scale); };

  for (int i = 0; i < track_.size(); ++i) {
    const int j = track_.next(i);
    fill_polygon(
        out,
        {sx(track_.left(i)), sy(track_.left(i)), sx(track_.left(j)), sy(track_.left(j)),
         sx(track_.right(j)), sy(track_.right(j)), sx(track_.right(i)), sy(track_.right(i))},
        {105, 105, 105});
  }
  for (int i = 0; i < track_.size(); ++i) {
    const int j = track_.next(i);
    const Color kerb = (i / 2) % 2 ? Color{230, 230, 230} : Color{200, 40, 40};
    draw_line(out, sx(track_.left(i)), sy(track_.left(i)), sx(track_.left(j)), sy(track_.left(j)),
              2.f, kerb);
    draw_line(out, sx(track_.right(i)), sy(track_.right(i)), sx(track_.right(j)),
              sy(track_.right(j)), 2.f, kerb);
  }
  draw_line(out, sx(track_.left(0)), sy(track_.left(0)), sx(track_.right(0)), sy(track_.right(0)),
            3.f, {255, 255, 255});

  // Driven line, oldest to newest.
  for (size_t k = 1; k < trail_count_; ++k) {
    const size_t a = (trail_next_ + trail_.size() - trail_count_ + k - 1) % trail_.size();
    const size_t b = (a + 1) % trail_.size();
    draw_line(out, sx(trail_[a]), sy(trail_[a]), sx(trail_[b]), sy(trail_[b]), 1.5f,
              {250, 210, 40});
  }
  for (int i = 0; i < config_.rays; ++i) {
    const Vec2 dir = unit(car_.heading + ray_angle(i));
    const double d = track_.cast_ray(car_.position, dir, location_.segment, config_.ray_range);
    const Vec2 hit = car_.position + dir * d;
    draw_line(out, sx(car_.position), sy(car_.position), sx(hit), sy(hit), 1.f, {80, 220, 255});
  }
  Vec2 body[4];
  car_corners(car_, config_.car, std::max(1.0, 4.0 / (config_.car.width * scale)), body);
  fill_polygon(out,
               {sx(body[0]), sy(body[0]), sx(body[1]), sy(body[1]), sx(body[2]), sy(body[2]),
                sx(body[3]), sy(body[3])},
               {220, 30, 30});

  char line[64];
  blend_rect(out, 4, 4, 200, 58, {0, 0, 0}, 0.6f);
  std::snprintf(line, sizeof line, "TIME %.2f S", episode_steps() * config_.dt);
  draw_text(out, 10, 10, line, 3, {255, 255, 255});
  std::snprintf(line, sizeof line, "LAP %d%%",
                static_cast<int>(std::clamp(100.0 * progress_ / track_.length(), -99.0, 100.0)));
  draw_text(out, 10, 28, line, 3, {255, 255, 255});
  std::snprintf(line, sizeof line, "SPEED %.0f M/S", car_.velocity.norm());
  draw_text(out, 10, 46, line, 3, {255, 255, 255});
}

}  // namespace rl::driving
