// Keyboard input as plain data, independent of SFML, so that viewer logic and human play can
// be driven by scripted events in tests. render/sfml_input.h translates SFML events.
#pragma once

namespace rl::render {

enum class Key {
  kUnknown,
  kLeft,
  kRight,
  kUp,
  kDown,
  kSpace,
  kEnter,
  kEscape,
  kPlus,   // '+', '=' and keypad '+'.
  kMinus,  // '-' and keypad '-'.
  kP,
  kN,
  kQ,
  kR,
  kS,
  kX,
  kZ,
  kNum0,  // kNum0 + k is digit k (top row or keypad).
  kNum1,
  kNum2,
  kNum3,
  kNum4,
  kNum5,
  kNum6,
  kNum7,
  kNum8,
  kNum9,
};

struct KeyEvent {
  Key key = Key::kUnknown;
  bool pressed = true;  // False on release.
};

// Digit value of a number key, or -1.
inline int key_digit(Key key) {
  const int d = static_cast<int>(key) - static_cast<int>(Key::kNum0);
  return d >= 0 && d <= 9 ? d : -1;
}

}  // namespace rl::render
