#include "render/display_check.h"

#include <X11/Xlib.h>  // Kept out of other files: it defines macros such as None and Status.

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace rl::render {

void require_display(const std::string& alternatives) {
  Display* display = XOpenDisplay(nullptr);
  if (!display) {
    const char* name = std::getenv("DISPLAY");
    throw std::runtime_error(std::string("cannot open a window: no X display (DISPLAY=") +
                             (name ? name : "") + "); " + alternatives);
  }
  XCloseDisplay(display);
}

}  // namespace rl::render
