// SFML aborts the process when it cannot open the X display; check first and fail politely.
#pragma once

#include <string>

namespace rl::render {

// Throws std::runtime_error when no X display can be opened; the message names DISPLAY and
// ends with `alternatives` (what to do instead).
void require_display(const std::string& alternatives =
                         "use --export, --verify or --headless, or run under xvfb-run");

}  // namespace rl::render
