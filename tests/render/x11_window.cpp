#include "x11_window.h"

#include <X11/Xlib.h>

#include <functional>

namespace rl::render::testing {
namespace {

// The first window below the root whose title starts with `title_prefix`, or 0.
Window find_window(Display* display, const std::string& title_prefix) {
  std::function<Window(Window)> find = [&](Window window) -> Window {
    char* name = nullptr;
    if (XFetchName(display, window, &name) && name) {
      const bool match = std::string(name).rfind(title_prefix, 0) == 0;
      XFree(name);
      if (match) return window;
    }
    Window root = 0, parent = 0;
    Window* children = nullptr;
    unsigned count = 0;
    Window found = 0;
    if (XQueryTree(display, window, &root, &parent, &children, &count)) {
      for (unsigned i = 0; i < count && !found; ++i) found = find(children[i]);
      if (children) XFree(children);
    }
    return found;
  };
  return find(DefaultRootWindow(display));
}

}  // namespace

bool request_window_close(const std::string& title_prefix) {
  Display* display = XOpenDisplay(nullptr);
  if (!display) return false;
  const Window target = find_window(display, title_prefix);
  if (target) {
    XEvent event{};
    event.xclient.type = ClientMessage;
    event.xclient.window = target;
    event.xclient.message_type = XInternAtom(display, "WM_PROTOCOLS", False);
    event.xclient.format = 32;
    event.xclient.data.l[0] = static_cast<long>(XInternAtom(display, "WM_DELETE_WINDOW", False));
    event.xclient.data.l[1] = CurrentTime;
    XSendEvent(display, target, False, NoEventMask, &event);
    XFlush(display);
  }
  XCloseDisplay(display);
  return target != 0;
}

bool window_exists(const std::string& title_prefix) {
  Display* display = XOpenDisplay(nullptr);
  if (!display) return false;
  const bool exists = find_window(display, title_prefix) != 0;
  XCloseDisplay(display);
  return exists;
}

}  // namespace rl::render::testing
