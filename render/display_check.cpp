#include "render/display_check.h"

#include <X11/Xlib.h>  // Kept out of other files: it defines macros such as None and Status.

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace rl::render {

DisplayConnection::DisplayConnection(const std::string& alternatives) {
  display_ = XOpenDisplay(nullptr);
  if (!display_) {
    const char* name = std::getenv("DISPLAY");
    throw std::runtime_error(std::string("cannot open a window: no X display (DISPLAY=") +
                             (name ? name : "") + "); " + alternatives);
  }
}

void DisplayConnection::release() {
  if (display_) XCloseDisplay(static_cast<Display*>(display_));
  display_ = nullptr;
}

void require_display(const std::string& alternatives) { DisplayConnection check(alternatives); }

}  // namespace rl::render
