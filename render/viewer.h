// The SFML window: the env's render() scaled crisply on the left, the HUD panel on the right.
// Keys are translated to render::KeyEvent and handled by the SFML-free controls, so tests can
// inject scripted events and drive the loop one tick at a time.
#pragma once

#include <SFML/Graphics.hpp>
#include <deque>
#include <memory>
#include <string>

#include "render/controls.h"
#include "render/display_check.h"
#include "render/layout.h"
#include "render/watch_session.h"

namespace rl::render {

struct ViewerOptions {
  int frame_width = 0;  // Game picture area; 0: default_frame_area() of the first render.
  int frame_height = 0;
  double steps_per_second = 30.0;  // Env steps per second at speed x1.
  std::string screenshot_dir = ".";
  std::string font_path;  // Empty: find_hud_font().
  std::string title = "rlwatch";
  bool vsync = true;  // Cap the frame rate at max_fps (false: as fast as possible).
  unsigned max_fps = 60;
};

// The HUD font: $RLCADE_FONT if set, else DejaVu Sans (Debian: fonts-dejavu-core), else
// Liberation Sans. Throws std::runtime_error naming what was tried when none exists.
std::string find_hud_font();

class Viewer {
 public:
  static constexpr int kHudWidth = 280;

  // Opens the window. Throws std::runtime_error when no window can be opened or the font
  // cannot be loaded.
  Viewer(WatchSession& session, ViewerMode mode, ViewerOptions options);
  ~Viewer();

  // Runs until q/Esc or the window is closed.
  void run();
  // One loop iteration: handles window and injected events, advances the session by
  // `elapsed_seconds` of playback, draws and displays. Returns false once asked to quit.
  bool tick(double elapsed_seconds);
  // Queues a key event as if it came from the keyboard; handled by the next tick().
  void inject(const KeyEvent& event) { injected_.push_back(event); }

  // The window contents as drawn by the last tick (re-drawn, not yet displayed).
  sf::Image capture();
  // Where the game picture is inside the window.
  Rect frame_rect() const;
  const PlaybackClock& clock() const { return clock_; }
  bool quit_requested() const { return quit_; }
  // Path of the last screenshot written with s ("" if none).
  const std::string& last_screenshot() const { return last_screenshot_; }
  sf::RenderWindow& window() { return window_; }

 private:
  void handle_window_events();
  void handle_key(const KeyEvent& event);
  void apply(Command command);
  void advance(double elapsed_seconds);
  void draw();
  void update_frame_texture();
  void take_screenshot();
  void relayout(unsigned width, unsigned height);

  // First member: SFML's GL resources below open the display as they are constructed. Held
  // until the window is open (see DisplayConnection).
  DisplayConnection display_;
  WatchSession& session_;
  ViewerMode mode_;
  ViewerOptions options_;
  PlaybackClock clock_;
  sf::RenderWindow window_;
  sf::Font font_;
  sf::Texture frame_texture_;
  Image frame_;
  bool frame_dirty_ = true;
  int frame_area_width_ = 0;
  int frame_area_height_ = 0;
  std::deque<KeyEvent> injected_;
  bool quit_ = false;
  std::string last_screenshot_;
  std::string notice_;  // Last screenshot result, shown in the HUD.
  int screenshots_taken_ = 0;
  double fps_ = 0.0;
  sf::Clock fps_clock_;
  int frames_since_fps_ = 0;
};

}  // namespace rl::render
