#include "core/image.h"

#include <algorithm>
#include <cmath>

namespace rl {

Image::Image(int w, int h, Color fill_color) { resize(w, h, fill_color); }

void Image::resize(int w, int h, Color fill_color) {
  width = std::max(0, w);
  height = std::max(0, h);
  pixels.assign(static_cast<size_t>(width) * height * 3, 0);
  fill(*this, fill_color);
}

Color Image::at(int x, int y) const {
  const size_t i = (static_cast<size_t>(y) * width + x) * 3;
  return {pixels[i], pixels[i + 1], pixels[i + 2]};
}

void Image::set(int x, int y, Color c) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  const size_t i = (static_cast<size_t>(y) * width + x) * 3;
  pixels[i] = c.r;
  pixels[i + 1] = c.g;
  pixels[i + 2] = c.b;
}

void fill(Image& img, Color c) {
  for (size_t i = 0; i + 2 < img.pixels.size(); i += 3) {
    img.pixels[i] = c.r;
    img.pixels[i + 1] = c.g;
    img.pixels[i + 2] = c.b;
  }
}

void fill_rect(Image& img, int x, int y, int w, int h, Color c) {
  const int x0 = std::max(0, x), y0 = std::max(0, y);
  const int x1 = std::min(img.width, x + w), y1 = std::min(img.height, y + h);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) img.set(xx, yy, c);
}

void draw_rect_outline(Image& img, int x, int y, int w, int h, int t, Color c) {
  fill_rect(img, x, y, w, t, c);
  fill_rect(img, x, y + h - t, w, t, c);
  fill_rect(img, x, y, t, h, c);
  fill_rect(img, x + w - t, y, t, h, c);
}

void fill_circle(Image& img, float cx, float cy, float radius, Color c) {
  const int y0 = static_cast<int>(std::floor(cy - radius));
  const int y1 = static_cast<int>(std::ceil(cy + radius));
  const int x0 = static_cast<int>(std::floor(cx - radius));
  const int x1 = static_cast<int>(std::ceil(cx + radius));
  const float r2 = radius * radius;
  for (int y = std::max(0, y0); y <= std::min(img.height - 1, y1); ++y)
    for (int x = std::max(0, x0); x <= std::min(img.width - 1, x1); ++x) {
      const float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
      if (dx * dx + dy * dy <= r2) img.set(x, y, c);
    }
}

void draw_line(Image& img, float x0, float y0, float x1, float y1, float thickness, Color c) {
  const float dx = x1 - x0, dy = y1 - y0;
  const float length = std::sqrt(dx * dx + dy * dy);
  if (length < 1e-6f) {
    fill_circle(img, x0, y0, thickness * 0.5f, c);
    return;
  }
  // A thick line is a quadrilateral around the segment.
  const float nx = -dy / length * thickness * 0.5f, ny = dx / length * thickness * 0.5f;
  fill_polygon(img, {x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny}, c);
  if (thickness < 1.5f) {  // Thin lines: make sure every step along the major axis is drawn.
    const int steps = static_cast<int>(std::ceil(std::max(std::abs(dx), std::abs(dy))));
    for (int i = 0; i <= steps; ++i) {
      const float t = steps ? static_cast<float>(i) / steps : 0.f;
      img.set(static_cast<int>(std::floor(x0 + t * dx)), static_cast<int>(std::floor(y0 + t * dy)),
              c);
    }
  }
}

void fill_polygon(Image& img, const std::vector<float>& xy, Color c) {
  const size_t n = xy.size() / 2;
  if (n < 3) return;
  float ymin = xy[1], ymax = xy[1];
  for (size_t i = 0; i < n; ++i) {
    ymin = std::min(ymin, xy[2 * i + 1]);
    ymax = std::max(ymax, xy[2 * i + 1]);
  }
  const int row0 = std::max(0, static_cast<int>(std::floor(ymin)));
  const int row1 = std::min(img.height - 1, static_cast<int>(std::ceil(ymax)));
  std::vector<float> crossings;
  for (int y = row0; y <= row1; ++y) {
    const float sample_y = y + 0.5f;
    crossings.clear();
    for (size_t i = 0; i < n; ++i) {
      const float ax = xy[2 * i], ay = xy[2 * i + 1];
      const float bx = xy[2 * ((i + 1) % n)], by = xy[2 * ((i + 1) % n) + 1];
      if ((ay <= sample_y) != (by <= sample_y))
        crossings.push_back(ax + (sample_y - ay) / (by - ay) * (bx - ax));
    }
    std::sort(crossings.begin(), crossings.end());
    for (size_t k = 0; k + 1 < crossings.size(); k += 2) {
      const int x0 = std::max(0, static_cast<int>(std::ceil(crossings[k] - 0.5f)));
      const int x1 = std::min(img.width - 1, static_cast<int>(std::floor(crossings[k + 1] - 0.5f)));
      for (int x = x0; x <= x1; ++x) img.set(x, y, c);
    }
  }
}

void fill_triangle(Image& img, float x0, float y0, float x1, float y1, float x2, float y2,
                   Color c) {
  fill_polygon(img, {x0, y0, x1, y1, x2, y2}, c);
}

void blend_rect(Image& img, int x, int y, int w, int h, Color c, float alpha) {
  const int x0 = std::max(0, x), y0 = std::max(0, y);
  const int x1 = std::min(img.width, x + w), y1 = std::min(img.height, y + h);
  auto mix = [alpha](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(std::lround(a * (1.f - alpha) + b * alpha));
  };
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) {
      const Color old = img.at(xx, yy);
      img.set(xx, yy, {mix(old.r, c.r), mix(old.g, c.g), mix(old.b, c.b)});
    }
}

Image scale_nearest(const Image& src, int width, int height) {
  Image out(width, height);
  if (src.width == 0 || src.height == 0) return out;
  for (int y = 0; y < height; ++y) {
    const int sy = static_cast<int>(static_cast<int64_t>(y) * src.height / height);
    for (int x = 0; x < width; ++x) {
      const int sx = static_cast<int>(static_cast<int64_t>(x) * src.width / width);
      out.set(x, y, src.at(sx, sy));
    }
  }
  return out;
}

}  // namespace rl
