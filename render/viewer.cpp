#include "render/viewer.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "render/display_check.h"
#include "render/hud.h"
#include "render/sfml_input.h"

namespace rl::render {
namespace {

constexpr int kMinWindowHeight = 440;

std::string sanitize(const std::string& id) {
  std::string out;
  for (char c : id) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

}  // namespace

std::string find_hud_font() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("RLCADE_FONT"); env && *env) {
    if (!std::filesystem::is_regular_file(env))
      throw std::runtime_error(std::string("RLCADE_FONT=") + env + " is not a readable file");
    return env;
  }
  candidates = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"};
  for (const auto& path : candidates)
    if (std::filesystem::is_regular_file(path)) return path;
  std::string tried;
  for (const auto& path : candidates) tried += "\n  " + path;
  throw std::runtime_error(
      "no HUD font found (install fonts-dejavu-core, or set RLCADE_FONT to a .ttf file); "
      "tried:" +
      tried);
}

Viewer::Viewer(WatchSession& session, ViewerMode mode, ViewerOptions options)
    : display_(),
      session_(session),
      mode_(mode),
      options_(std::move(options)),
      clock_(options_.steps_per_second) {
  const std::string font_path = options_.font_path.empty() ? find_hud_font() : options_.font_path;
  if (!font_.loadFromFile(font_path))
    throw std::runtime_error("cannot load the HUD font " + font_path);
  session_.render(frame_);
  if (options_.frame_width <= 0 || options_.frame_height <= 0) {
    const Rect area = default_frame_area(frame_.width, frame_.height);
    options_.frame_width = area.width;
    options_.frame_height = area.height;
  }
  const unsigned width = static_cast<unsigned>(options_.frame_width + kHudWidth);
  const unsigned height = static_cast<unsigned>(std::max(options_.frame_height, kMinWindowHeight));
  {
    // SFML reports "Setting vertical sync not supported" on every window of servers without
    // GLX swap control (Xvfb); the window works, and the line would land in the middle of
    // rltrain's progress output. Anything else SFML says is passed on.
    std::ostringstream messages;
    std::streambuf* previous = sf::err().rdbuf(messages.rdbuf());
    window_.create(sf::VideoMode(width, height), options_.title, sf::Style::Default);
    sf::err().rdbuf(previous);
    std::istringstream lines(messages.str());
    for (std::string line; std::getline(lines, line);)
      if (line != "Setting vertical sync not supported") sf::err() << line << '\n';
  }
  if (!window_.isOpen())
    throw std::runtime_error("cannot open a window (is DISPLAY set? use --export for headless)");
  window_.setKeyRepeatEnabled(false);
  window_.setFramerateLimit(options_.vsync ? options_.max_fps : 0);
  frame_texture_.setSmooth(false);
  relayout(width, height);
  display_.release();  // SFML holds its own connection now.
}

Viewer::~Viewer() {
  if (window_.isOpen()) window_.close();
}

void Viewer::relayout(unsigned width, unsigned height) {
  window_.setView(
      sf::View(sf::FloatRect(0.f, 0.f, static_cast<float>(width), static_cast<float>(height))));
  frame_area_width_ = std::max(1, static_cast<int>(width) - kHudWidth);
  frame_area_height_ = std::max(1, static_cast<int>(height));
  frame_dirty_ = true;
}

Rect Viewer::frame_rect() const {
  return fit_keep_aspect(frame_.width, frame_.height, frame_area_width_, frame_area_height_);
}

void Viewer::run() {
  sf::Clock clock;
  while (tick(clock.restart().asSeconds())) {
  }
}

bool Viewer::tick(double elapsed_seconds) {
  if (!window_.isOpen()) quit_ = true;
  handle_window_events();
  while (!injected_.empty() && !quit_) {
    const KeyEvent event = injected_.front();
    injected_.pop_front();
    handle_key(event);
  }
  if (quit_) return false;
  advance(elapsed_seconds);
  ++frames_since_fps_;
  if (const float seconds = fps_clock_.getElapsedTime().asSeconds(); seconds >= 0.5f) {
    fps_ = frames_since_fps_ / seconds;
    frames_since_fps_ = 0;
    fps_clock_.restart();
  }
  draw();
  window_.display();
  return !quit_;
}

void Viewer::handle_window_events() {
  sf::Event event;
  while (window_.pollEvent(event)) {
    switch (event.type) {
      case sf::Event::Closed:
        quit_ = true;
        break;
      case sf::Event::Resized:
        relayout(event.size.width, event.size.height);
        break;
      case sf::Event::LostFocus:
        if (HumanInput* human = session_.human_input()) human->clear();
        break;
      case sf::Event::KeyPressed:
      case sf::Event::KeyReleased:
        handle_key(to_key_event(event));
        break;
      default:
        break;
    }
  }
}

void Viewer::handle_key(const KeyEvent& event) {
  const Command command = command_for(event, mode_);
  if (command != Command::kNone) {
    apply(command);
    return;
  }
  HumanInput* human = session_.human_input();
  if (mode_ == ViewerMode::kPlay && human && !(clock_.paused() && event.pressed))
    human->on_key(event);
}

void Viewer::apply(Command command) {
  switch (command) {
    case Command::kTogglePause:
      clock_.toggle_pause();
      break;
    case Command::kStepOnce:
      clock_.request_single_step();
      break;
    case Command::kFaster:
      clock_.faster();
      break;
    case Command::kSlower:
      clock_.slower();
      break;
    case Command::kRestart:
      session_.restart();
      frame_dirty_ = true;
      break;
    case Command::kScreenshot:
      take_screenshot();
      break;
    case Command::kQuit:
      quit_ = true;
      break;
    case Command::kNone:
      break;
  }
}

void Viewer::advance(double elapsed_seconds) {
  if (session_.turn_based()) {
    if (clock_.paused()) return;
    while (session_.advance()) frame_dirty_ = true;
    return;
  }
  const int steps = clock_.steps_due(elapsed_seconds);
  for (int i = 0; i < steps; ++i) {
    if (!session_.advance()) break;
    frame_dirty_ = true;
  }
}

void Viewer::update_frame_texture() {
  if (!frame_dirty_) return;
  frame_dirty_ = false;
  session_.render(frame_);
  const Rect rect = frame_rect();
  const Image scaled = scale_nearest(frame_, rect.width, rect.height);
  std::vector<sf::Uint8> rgba(static_cast<size_t>(scaled.width) * scaled.height * 4);
  for (size_t p = 0, q = 0; p < scaled.pixels.size(); p += 3, q += 4) {
    rgba[q] = scaled.pixels[p];
    rgba[q + 1] = scaled.pixels[p + 1];
    rgba[q + 2] = scaled.pixels[p + 2];
    rgba[q + 3] = 255;
  }
  const sf::Vector2u size(static_cast<unsigned>(scaled.width),
                          static_cast<unsigned>(scaled.height));
  if (frame_texture_.getSize() != size && !frame_texture_.create(size.x, size.y))
    throw std::runtime_error("cannot create a " + std::to_string(size.x) + "x" +
                             std::to_string(size.y) + " texture for the frame");
  frame_texture_.update(rgba.data());
}

void Viewer::draw() {
  update_frame_texture();
  window_.clear(sf::Color::Black);
  const Rect rect = frame_rect();
  sf::Sprite sprite(frame_texture_);
  sprite.setPosition(static_cast<float>(rect.x), static_cast<float>(rect.y));
  window_.draw(sprite);
  PlaybackInfo playback{
      fps_,   clock_.steps_per_second(), clock_.speed(), clock_.paused(), controls_help(mode_),
      notice_};
  draw_hud(window_, font_, session_.hud(), playback,
           sf::FloatRect(static_cast<float>(frame_area_width_), 0.f, static_cast<float>(kHudWidth),
                         static_cast<float>(window_.getSize().y)));
}

sf::Image Viewer::capture() {
  draw();
  sf::Texture texture;
  const sf::Vector2u size = window_.getSize();
  if (!texture.create(size.x, size.y)) throw std::runtime_error("cannot capture the window");
  texture.update(window_);
  return texture.copyToImage();
}

void Viewer::take_screenshot() {
  namespace fs = std::filesystem;
  const HudState& hud = session_.hud();
  const std::string stem = "rlwatch-" + sanitize(hud.env_id) + "-e" + std::to_string(hud.episode) +
                           "-s" + std::to_string(hud.step) + "-" +
                           std::to_string(++screenshots_taken_);
  const fs::path path = fs::path(options_.screenshot_dir) / (stem + ".png");
  const fs::path temp = fs::path(options_.screenshot_dir) / (stem + ".tmp.png");
  std::error_code ec;
  fs::create_directories(options_.screenshot_dir, ec);
  if (!capture().saveToFile(temp.string())) {
    notice_ = "screenshot failed: cannot write " + temp.string();
    return;
  }
  fs::rename(temp, path, ec);
  if (ec) {
    notice_ = "screenshot failed: " + ec.message();
    return;
  }
  last_screenshot_ = path.string();
  notice_ = "saved " + last_screenshot_;
}

}  // namespace rl::render
