// SFML keyboard events -> render::KeyEvent.
#pragma once

#include <SFML/Window/Event.hpp>

#include "render/keys.h"

namespace rl::render {

Key to_key(sf::Keyboard::Key key);
// For KeyPressed / KeyReleased events; other events give Key::kUnknown.
KeyEvent to_key_event(const sf::Event& event);

}  // namespace rl::render
