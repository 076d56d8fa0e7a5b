// Frame placement shared by the window and the exporters: env renders are scaled with
// nearest-neighbour sampling (crisp pixels) and keep their aspect ratio.
#pragma once

#include "core/image.h"

namespace rl::render {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const Rect&) const = default;
};

// The largest rectangle with the aspect ratio of a src_width x src_height image that fits in
// box_width x box_height, centred in the box. At least 1x1 for non-empty inputs.
Rect fit_keep_aspect(int src_width, int src_height, int box_width, int box_height);

// A comfortable window area for a render of this size: small renders (grid and MinAtar
// games) are enlarged by a whole factor so that their longer side reaches about 640 pixels.
Rect default_frame_area(int src_width, int src_height);

// The frame as it appears in a box_width x box_height area: scaled with scale_nearest to
// fit_keep_aspect (no letterbox bars; the caller places it at the returned rect's x, y).
Image fit_frame(const Image& frame, int box_width, int box_height);

}  // namespace rl::render
