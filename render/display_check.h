// SFML aborts the process when it cannot open the X display; check first and fail politely.
#pragma once

#include <string>

namespace rl::render {

inline constexpr const char* kDefaultDisplayHint =
    "use --export, --verify or --headless, or run under xvfb-run";

// Throws std::runtime_error when no X display can be opened; the message names DISPLAY and
// ends with `alternatives` (what to do instead).
void require_display(const std::string& alternatives = kDefaultDisplayHint);

// The same check, keeping its connection open until release() or destruction. Hold it until
// SFML has opened its own connection: a server that resets when its last client disconnects
// (Xvfb as xvfb-run starts it, without -noreset) would otherwise be restarting just when
// SFML connects, and SFML aborts the process when that fails.
class DisplayConnection {
 public:
  explicit DisplayConnection(const std::string& alternatives = kDefaultDisplayHint);
  ~DisplayConnection() { release(); }
  DisplayConnection(const DisplayConnection&) = delete;
  DisplayConnection& operator=(const DisplayConnection&) = delete;
  void release();

 private:
  void* display_ = nullptr;  // Display* (Xlib's macros stay inside display_check.cpp).
};

}  // namespace rl::render
