// A rectangular grid of cells, x to the right and y downward (MiniGrid's convention).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/grid/objects.h"

namespace rl::grid {

struct Pos {
  int x = 0;
  int y = 0;
  bool operator==(const Pos&) const = default;
};

// Direction d in 0..3 = right, down, left, up (MiniGrid's DIR_TO_VEC).
inline constexpr Pos kDirVec[4] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};

class Grid {
 public:
  Grid() = default;
  Grid(int width, int height) { resize(width, height); }

  // Resizes to width x height and empties every cell.
  void resize(int width, int height) {
    if (width < 3 || height < 3)
      throw std::invalid_argument("grid: size " + std::to_string(width) + "x" +
                                  std::to_string(height) + " is smaller than 3x3");
    width_ = width;
    height_ = height;
    cells_.assign(static_cast<size_t>(width) * height, Cell::empty());
  }
  void clear() { cells_.assign(cells_.size(), Cell::empty()); }

  int width() const { return width_; }
  int height() const { return height_; }
  bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }
  bool contains(Pos p) const { return contains(p.x, p.y); }

  // Unchecked access; callers guarantee contains(x, y).
  Cell& at(int x, int y) { return cells_[static_cast<size_t>(y) * width_ + x]; }
  const Cell& at(int x, int y) const { return cells_[static_cast<size_t>(y) * width_ + x]; }
  Cell& at(Pos p) { return at(p.x, p.y); }
  const Cell& at(Pos p) const { return at(p.x, p.y); }
  // Like at(), but positions outside the grid read as a grey wall (MiniGrid's slice()).
  const Cell& at_or_wall(int x, int y) const {
    static constexpr Cell kOutside = Cell::wall();
    return contains(x, y) ? at(x, y) : kOutside;
  }

  void set(int x, int y, const Cell& c) { at(x, y) = c; }
  void set(Pos p, const Cell& c) { at(p) = c; }
  // `length` cells from (x, y) to the right / downward, clipped to the grid.
  void horz_wall(int x, int y, int length, const Cell& c = Cell::wall());
  void vert_wall(int x, int y, int length, const Cell& c = Cell::wall());
  // The outline of the w x h rectangle with top-left corner (x, y).
  void wall_rect(int x, int y, int w, int h);

  bool operator==(const Grid&) const = default;

 private:
  int width_ = 0;
  int height_ = 0;
  std::vector<Cell> cells_;
};

inline void Grid::horz_wall(int x, int y, int length, const Cell& c) {
  for (int i = 0; i < length; ++i)
    if (contains(x + i, y)) at(x + i, y) = c;
}

inline void Grid::vert_wall(int x, int y, int length, const Cell& c) {
  for (int j = 0; j < length; ++j)
    if (contains(x, y + j)) at(x, y + j) = c;
}

inline void Grid::wall_rect(int x, int y, int w, int h) {
  horz_wall(x, y, w);
  horz_wall(x, y + h - 1, w);
  vert_wall(x, y, h);
  vert_wall(x + w - 1, y, h);
}

}  // namespace rl::grid
