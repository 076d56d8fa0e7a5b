// Test helper: acts on top-level windows of the current X display the way a window manager
// or a user would, without pulling Xlib's macros into the test files.
#pragma once

#include <string>

namespace rl::render::testing {

// Sends WM_DELETE_WINDOW (the close button) to the first window whose title starts with
// `title_prefix`. Returns false when no such window exists or the display cannot be opened.
bool request_window_close(const std::string& title_prefix);

// Whether a window whose title starts with `title_prefix` exists (false without a display).
bool window_exists(const std::string& title_prefix);

}  // namespace rl::render::testing
