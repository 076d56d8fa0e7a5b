// RGB images and the small raster toolkit envs use to draw themselves.
#pragma once

#include <cstdint>
#include <vector>

namespace rl {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Color&) const = default;
};

// Row-major, tightly packed RGB8 image.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3 bytes.

  Image() = default;
  Image(int w, int h, Color fill = {});
  void resize(int w, int h, Color fill = {});
  Color at(int x, int y) const;
  // Sets one pixel; coordinates outside the image are ignored.
  void set(int x, int y, Color c);
  bool operator==(const Image&) const = default;
};

// Raster helpers. All clip to the image; coordinates are pixels, y grows downward.
void fill(Image& img, Color c);
void fill_rect(Image& img, int x, int y, int w, int h, Color c);
void draw_rect_outline(Image& img, int x, int y, int w, int h, int thickness, Color c);
void fill_circle(Image& img, float cx, float cy, float radius, Color c);
void draw_line(Image& img, float x0, float y0, float x1, float y1, float thickness, Color c);
// Fills a convex or concave simple polygon (even-odd rule) given as x,y pairs.
void fill_polygon(Image& img, const std::vector<float>& xy, Color c);
void fill_triangle(Image& img, float x0, float y0, float x1, float y1, float x2, float y2, Color c);
// Blends `c` over the rectangle with opacity alpha in [0, 1].
void blend_rect(Image& img, int x, int y, int w, int h, Color c, float alpha);
// Nearest-neighbour rescale (crisp pixels for grid games).
Image scale_nearest(const Image& src, int width, int height);

}  // namespace rl
