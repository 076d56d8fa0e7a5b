#include "render/sfml_input.h"

namespace rl::render {

Key to_key(sf::Keyboard::Key key) {
  using K = sf::Keyboard;
  if (key >= K::Num0 && key <= K::Num9)
    return static_cast<Key>(static_cast<int>(Key::kNum0) + (key - K::Num0));
  if (key >= K::Numpad0 && key <= K::Numpad9)
    return static_cast<Key>(static_cast<int>(Key::kNum0) + (key - K::Numpad0));
  switch (key) {
    case K::Left:
      return Key::kLeft;
    case K::Right:
      return Key::kRight;
    case K::Up:
      return Key::kUp;
    case K::Down:
      return Key::kDown;
    case K::Space:
      return Key::kSpace;
    case K::Enter:
      return Key::kEnter;
    case K::Escape:
      return Key::kEscape;
    case K::Add:
    case K::Equal:
      return Key::kPlus;
    case K::Subtract:
    case K::Hyphen:
      return Key::kMinus;
    case K::P:
      return Key::kP;
    case K::N:
      return Key::kN;
    case K::Q:
      return Key::kQ;
    case K::R:
      return Key::kR;
    case K::S:
      return Key::kS;
    case K::X:
      return Key::kX;
    case K::Z:
      return Key::kZ;
    default:
      return Key::kUnknown;
  }
}

KeyEvent to_key_event(const sf::Event& event) {
  if (event.type != sf::Event::KeyPressed && event.type != sf::Event::KeyReleased) return {};
  return {to_key(event.key.code), event.type == sf::Event::KeyPressed};
}

}  // namespace rl::render
