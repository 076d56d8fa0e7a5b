#include "render/hud.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace rl::render {
namespace {

const sf::Color kPanel(24, 26, 32);
const sf::Color kText(230, 230, 230);
const sf::Color kDim(150, 155, 165);
const sf::Color kGood(120, 210, 120);
const sf::Color kBad(240, 90, 80);
const sf::Color kBar(80, 130, 220);
const sf::Color kChosenBar(240, 190, 60);

// Greedy word wrap by an approximate glyph width (good enough for a HUD).
std::vector<std::string> wrap(const std::string& text, unsigned size, float width) {
  const auto max_chars = static_cast<size_t>(std::max(8.f, width / (0.58f * size)));
  std::vector<std::string> lines;
  std::string line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(pos, end - pos);
    pos = end + 1;
    while (word.size() > max_chars) {  // Break words longer than a line.
      if (!line.empty()) lines.push_back(line), line.clear();
      lines.push_back(word.substr(0, max_chars));
      word = word.substr(max_chars);
    }
    if (!line.empty() && line.size() + 1 + word.size() > max_chars)
      lines.push_back(line), line.clear();
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

class Writer {
 public:
  Writer(sf::RenderTarget& target, const sf::Font& font, const sf::FloatRect& area)
      : target_(target), font_(font), area_(area), y_(area.top + 12.f) {}

  void line(const std::string& text, unsigned size, sf::Color color) {
    for (const auto& l : wrap(text, size, area_.width - 24.f)) {
      sf::Text t(sf::String::fromUtf8(l.begin(), l.end()), font_, size);
      t.setFillColor(color);
      t.setPosition(area_.left + 12.f, y_);
      target_.draw(t);
      y_ += size * 1.35f;
    }
  }
  void gap(float pixels) { y_ += pixels; }
  float y() const { return y_; }
  void set_y(float y) { y_ = y; }

 private:
  sf::RenderTarget& target_;
  const sf::Font& font_;
  sf::FloatRect area_;
  float y_;
};

std::string format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, value);
  return buf;
}

void draw_value_bars(sf::RenderTarget& target, const sf::Font& font, const HudState& hud,
                     const sf::FloatRect& area, Writer& writer) {
  const auto& values = hud.action_values;
  if (values.empty()) return;
  writer.line(hud.values_label.empty() ? "action values" : hud.values_label, 14, kDim);
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const float lo = std::min(0.f, *lo_it), hi = std::max(0.f, *hi_it);
  const float span = hi - lo > 1e-12f ? hi - lo : 1.f;
  const float label_width = 90.f, bar_left = area.left + 12.f + label_width;
  const float bar_width = area.width - 24.f - label_width - 52.f;
  const size_t shown = std::min<size_t>(values.size(), 18);
  for (size_t i = 0; i < shown; ++i) {
    const float y = writer.y();
    const bool chosen = static_cast<int64_t>(i) == hud.last_action_index;
    const std::string label =
        i < hud.action_labels.size() ? hud.action_labels[i] : "action " + std::to_string(i);
    sf::Text name(label.substr(0, 12), font, 12);
    name.setFillColor(chosen ? kChosenBar : kText);
    name.setPosition(area.left + 12.f, y);
    target.draw(name);
    const float zero_x = bar_left + (0.f - lo) / span * bar_width;
    const float value_x = bar_left + (values[i] - lo) / span * bar_width;
    sf::RectangleShape bar({std::max(1.f, std::abs(value_x - zero_x)), 11.f});
    bar.setPosition(std::min(zero_x, value_x), y + 3.f);
    bar.setFillColor(chosen ? kChosenBar : kBar);
    target.draw(bar);
    sf::Text number(format("%.3g", values[i]), font, 11);
    number.setFillColor(kDim);
    number.setPosition(bar_left + bar_width + 6.f, y + 1.f);
    target.draw(number);
    writer.gap(17.f);
  }
}

// A recurrent policy's state as a heat strip, one cell per float (at most 256, 32 a row):
// blue below zero, orange above, black at zero, squashed by tanh so cell states fit too.
void draw_memory_strip(sf::RenderTarget& target, const HudState& hud, const sf::FloatRect& area,
                       Writer& writer) {
  if (hud.memory.empty()) return;
  writer.line("memory (" + std::to_string(hud.memory.size()) + ")", 14, kDim);
  constexpr size_t kPerRow = 32, kMaxCells = 256;
  const size_t shown = std::min(hud.memory.size(), kMaxCells);
  const float cell = std::max(2.f, std::floor((area.width - 24.f) / kPerRow));
  for (size_t i = 0; i < shown; ++i) {
    const float v = std::tanh(hud.memory[i]);
    const auto level = static_cast<sf::Uint8>(std::min(255.f, std::abs(v) * 255.f));
    sf::RectangleShape square({cell - 1.f, cell - 1.f});
    square.setPosition(area.left + 12.f + static_cast<float>(i % kPerRow) * cell,
                       writer.y() + static_cast<float>(i / kPerRow) * cell);
    square.setFillColor(v >= 0 ? sf::Color(level, static_cast<sf::Uint8>(level * 0.6f), 0)
                               : sf::Color(0, static_cast<sf::Uint8>(level * 0.5f), level));
    target.draw(square);
  }
  writer.gap(static_cast<float>((shown + kPerRow - 1) / kPerRow) * cell + 6.f);
}

}  // namespace

void draw_hud(sf::RenderTarget& target, const sf::Font& font, const HudState& hud,
              const PlaybackInfo& playback, const sf::FloatRect& area) {
  sf::RectangleShape panel({area.width, area.height});
  panel.setPosition(area.left, area.top);
  panel.setFillColor(kPanel);
  target.draw(panel);

  Writer w(target, font, area);
  w.line(hud.env_id, 18, kText);
  w.line(hud.source, 13, kDim);
  w.gap(6.f);
  w.line("episode " + std::to_string(hud.episode) + "   step " + std::to_string(hud.step), 15,
         kText);
  w.line("return " + format("%.6g", hud.episode_return), 15, kText);
  w.line("action " + (hud.last_action.empty() ? std::string("-") : hud.last_action), 15, kText);
  if (!hud.status.empty()) w.line(hud.status, 13, hud.diverged ? kBad : kGood);
  w.gap(6.f);
  std::string pace = format("x%g", playback.speed) + "  " +
                     format("%.0f steps/s", playback.steps_per_second * playback.speed) + "  " +
                     format("FPS %.0f", playback.fps);
  w.line(pace, 13, kDim);
  if (playback.paused) w.line("PAUSED", 15, kChosenBar);
  if (!playback.notice.empty()) w.line(playback.notice, 12, kDim);
  w.gap(8.f);
  draw_value_bars(target, font, hud, area, w);
  draw_memory_strip(target, hud, area, w);

  // Controls, one "key: effect" item per line, at the bottom of the panel.
  std::vector<std::string> items;
  for (size_t pos = 0; pos < playback.help.size();) {
    size_t end = playback.help.find("  ", pos);
    if (end == std::string::npos) end = playback.help.size();
    items.push_back(playback.help.substr(pos, end - pos));
    pos = end + 2;
  }
  w.set_y(std::max(w.y() + 8.f, area.top + area.height - 8.f - items.size() * 12 * 1.35f));
  for (const auto& item : items) w.line(item, 12, kDim);
}

}  // namespace rl::render
