// SFML aborts the process when it cannot open the X display; check first and fail politely.
#pragma once

namespace rl::render {

// Throws std::runtime_error explaining the alternatives when no X display can be opened.
void require_display();

}  // namespace rl::render
