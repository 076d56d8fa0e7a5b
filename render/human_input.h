// Keyboard -> action mapping for human play, derived from an env's spec (no per-env code).
//
// Discrete actions are bound through spec().action_names: names made of the words
// left/right/up/down/fire (and synonyms such as forward, gas, faster, brake, toggle, noop,
// idle; "upleft", "up_fire" or "lane_left" combine them) get the arrow keys and space;
// pickup/drop/done get Z/X/Enter; digit k always selects action k. Envs with a no-op action play in
// real time (the held keys choose each step's action, the no-op when none is held); envs without
// one are turn-based (one step per key press). Box actions play in real time: left/right steer the
// component named like steer/turn (else the first), up raises the one named like gas/throttle (else
// the second), down raises a brake component, or lowers the throttle when there is none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "render/keys.h"

namespace rl::render {

class HumanInput {
 public:
  explicit HumanInput(const EnvSpec& spec);

  // True when the game advances one step per key press instead of with the clock.
  bool turn_based() const { return turn_based_; }
  // Feeds one key event; returns true when the key is bound to the game.
  bool on_key(const KeyEvent& event);
  // Turn-based: the action index of the oldest unconsumed key press, if any.
  std::optional<int64_t> next_turn();
  // Real-time: the action for the coming step from the held keys and the keys tapped since
  // the previous call (so a short tap between two steps is not lost). For Box actions the
  // returned values view storage owned by this object, valid until the next call.
  Action current_action();
  // Drops held keys and queued turns (e.g. when the window loses focus or on restart).
  void clear();
  // Human-readable bindings, e.g. "left arrow: left, space: fire, 0-5: action by number".
  std::string describe() const;

 private:
  enum class Role { kNone, kSteer, kThrottle, kBrake };
  struct Binding {
    int64_t action = 0;
    unsigned mask = 0;            // Bits of the arrow/space keys this action stands for.
    Key special = Key::kUnknown;  // Z/X/Enter for pickup/drop/done style actions.
  };

  bool is_bound(Key key) const;
  std::optional<int64_t> action_for_mask(unsigned mask) const;
  // The bound action covering the most of `mask`'s keys without needing others.
  std::optional<int64_t> action_for_largest_part(unsigned mask) const;
  std::optional<int64_t> action_for_key(Key key) const;
  void bind_discrete(const EnvSpec& spec);
  void bind_continuous(const EnvSpec& spec);
  Action continuous_action(unsigned active);

  int64_t num_actions_ = 0;
  bool continuous_ = false;
  bool turn_based_ = false;
  std::vector<Binding> bindings_;
  std::optional<int64_t> noop_;
  int64_t last_action_ = 0;
  unsigned held_ = 0;
  unsigned tapped_ = 0;
  int64_t held_direct_ = -1;  // Action chosen by a held digit or named key.
  int64_t tapped_direct_ = -1;
  std::vector<int64_t> turns_;
  std::vector<Role> roles_;
  std::vector<float> low_, high_, values_;
};

}  // namespace rl::render
