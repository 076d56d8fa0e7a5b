// A tiny 3x5 bitmap font for HUD text in env renders (digits, A-Z, space and . : % / -).
#pragma once

#include <string_view>

#include "core/image.h"

namespace rl::driving {

// Draws `text` with its top-left corner at (x, y); each font pixel becomes a `scale` x `scale`
// block and characters advance by 4 * scale. Lowercase is drawn as uppercase; characters
// without a glyph are drawn as blanks. Returns the x just after the text.
int draw_text(Image& img, int x, int y, std::string_view text, int scale, Color color);

}  // namespace rl::driving
