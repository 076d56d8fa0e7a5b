#include "render/layout.h"

#include <algorithm>
#include <cmath>

namespace rl::render {

Rect fit_keep_aspect(int src_width, int src_height, int box_width, int box_height) {
  if (src_width <= 0 || src_height <= 0 || box_width <= 0 || box_height <= 0) return {};
  const double scale = std::min(static_cast<double>(box_width) / src_width,
                                static_cast<double>(box_height) / src_height);
  Rect r;
  r.width = std::clamp(static_cast<int>(std::floor(src_width * scale + 1e-9)), 1, box_width);
  r.height = std::clamp(static_cast<int>(std::floor(src_height * scale + 1e-9)), 1, box_height);
  r.x = (box_width - r.width) / 2;
  r.y = (box_height - r.height) / 2;
  return r;
}

Rect default_frame_area(int src_width, int src_height) {
  const int longer = std::max(1, std::max(src_width, src_height));
  const int factor = std::max(1, 640 / longer);
  return {0, 0, std::max(1, src_width * factor), std::max(1, src_height * factor)};
}

Image fit_frame(const Image& frame, int box_width, int box_height) {
  const Rect r = fit_keep_aspect(frame.width, frame.height, box_width, box_height);
  if (r.width == frame.width && r.height == frame.height) return frame;
  return scale_nearest(frame, r.width, r.height);
}

}  // namespace rl::render
