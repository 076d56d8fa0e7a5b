#include "render/human_input.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <map>

namespace rl::render {
namespace {

constexpr unsigned kLeftBit = 1, kRightBit = 2, kUpBit = 4, kDownBit = 8, kFireBit = 16;
constexpr unsigned kNoopMarker = 1u << 8;  // A word meaning "do nothing".
constexpr unsigned kUnboundMarker = 1u << 9;

unsigned key_bit(Key key) {
  switch (key) {
    case Key::kLeft:
      return kLeftBit;
    case Key::kRight:
      return kRightBit;
    case Key::kUp:
      return kUpBit;
    case Key::kDown:
      return kDownBit;
    case Key::kSpace:
      return kFireBit;
    default:
      return 0;
  }
}

const std::map<std::string, unsigned>& word_bits() {
  static const std::map<std::string, unsigned> words = {
      {"left", kLeftBit},
      {"right", kRightBit},
      {"up", kUpBit},
      {"forward", kUpBit},
      {"north", kUpBit},
      {"down", kDownBit},
      {"backward", kDownBit},
      {"back", kDownBit},
      {"south", kDownBit},
      {"fire", kFireBit},
      {"shoot", kFireBit},
      {"toggle", kFireBit},
      {"interact", kFireBit},
      {"jump", kFireBit},
      {"use", kFireBit},
      {"noop", kNoopMarker},
      {"none", kNoopMarker},
      {"stay", kNoopMarker},
      {"idle", kNoopMarker},
      {"nothing", kNoopMarker},
      {"wait", kNoopMarker},
      {"gas", kUpBit},
      {"accelerate", kUpBit},
      {"faster", kUpBit},
      {"throttle", kUpBit},
      {"brake", kDownBit},
      {"slower", kDownBit},
      {"decelerate", kDownBit},
      {"reverse", kDownBit},
      // Filler words that only qualify a direction ("lane_left", "turn_right").
      {"lane", 0},
      {"turn", 0},
      {"move", 0},
      {"go", 0},
  };
  return words;
}

// Single letters count only as whole tokens ("l", "f"), as in MinAtar's action names.
const std::map<std::string, unsigned>& letter_bits() {
  static const std::map<std::string, unsigned> letters = {
      {"l", kLeftBit}, {"r", kRightBit}, {"u", kUpBit},
      {"d", kDownBit}, {"f", kFireBit},  {"n", kNoopMarker},
  };
  return letters;
}

// Decomposes a token like "upleftfire" into known words; kUnboundMarker if impossible.
unsigned token_bits(const std::string& token) {
  if (auto it = letter_bits().find(token); it != letter_bits().end()) return it->second;
  unsigned bits = 0;
  size_t pos = 0;
  while (pos < token.size()) {
    size_t best = 0;
    unsigned best_bits = 0;
    for (const auto& [word, b] : word_bits())
      if (word.size() > best && token.compare(pos, word.size(), word) == 0) {
        best = word.size();
        best_bits = b;
      }
    if (best == 0) return kUnboundMarker;
    bits |= best_bits;
    pos += best;
  }
  return bits;
}

std::vector<std::string> tokens_of(const std::string& name) {
  std::vector<std::string> tokens(1);
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      tokens.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!tokens.back().empty())
      tokens.emplace_back();
  }
  if (tokens.back().empty()) tokens.pop_back();
  return tokens;
}

Key special_key_for(const std::string& name) {
  std::string lower;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "pickup" || lower == "pick" || lower == "grab") return Key::kZ;
  if (lower == "drop" || lower == "release") return Key::kX;
  if (lower == "done" || lower == "finish" || lower == "submit") return Key::kEnter;
  return Key::kUnknown;
}

bool contains_any(const std::string& name, std::initializer_list<const char*> words) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* w : words)
    if (lower.find(w) != std::string::npos) return true;
  return false;
}

std::string mask_keys(unsigned mask) {
  std::string out;
  auto add = [&](unsigned bit, const char* name) {
    if (!(mask & bit)) return;
    if (!out.empty()) out += '+';
    out += name;
  };
  add(kUpBit, "up");
  add(kDownBit, "down");
  add(kLeftBit, "left");
  add(kRightBit, "right");
  add(kFireBit, "space");
  return out;
}

}  // namespace

HumanInput::HumanInput(const EnvSpec& spec) {
  continuous_ = !spec.action_space.is_discrete();
  if (continuous_)
    bind_continuous(spec);
  else
    bind_discrete(spec);
}

void HumanInput::bind_discrete(const EnvSpec& spec) {
  num_actions_ = spec.action_space.n;
  for (int64_t a = 0; a < num_actions_ && a < static_cast<int64_t>(spec.action_names.size()); ++a) {
    const std::string& name = spec.action_names[static_cast<size_t>(a)];
    unsigned mask = 0;
    for (const auto& token : tokens_of(name)) mask |= token_bits(token);
    if (mask == kNoopMarker) {
      if (!noop_) noop_ = a;
      continue;
    }
    if (mask & (kUnboundMarker | kNoopMarker)) {
      const Key special = special_key_for(name);
      if (special != Key::kUnknown) bindings_.push_back({a, 0, special});
      continue;
    }
    if (mask != 0 && !action_for_mask(mask)) bindings_.push_back({a, mask, Key::kUnknown});
  }
  turn_based_ = !noop_.has_value();
  last_action_ = noop_.value_or(0);
}

void HumanInput::bind_continuous(const EnvSpec& spec) {
  const Space& space = spec.action_space;
  const auto n = static_cast<size_t>(space.numel());
  low_ = space.low;
  high_ = space.high;
  values_.assign(n, 0.f);
  roles_.assign(n, Role::kNone);
  const bool named = spec.action_names.size() == n;
  bool any_named_role = false;
  for (size_t i = 0; named && i < n; ++i) {
    const std::string& name = spec.action_names[i];
    if (contains_any(name, {"steer", "turn", "lateral"}))
      roles_[i] = Role::kSteer;
    else if (contains_any(name, {"gas", "throttle", "accel", "thrust", "speed"}))
      roles_[i] = Role::kThrottle;
    else if (contains_any(name, {"brake"}))
      roles_[i] = Role::kBrake;
    any_named_role |= roles_[i] != Role::kNone;
  }
  if (!any_named_role) {
    const Role positional[] = {Role::kSteer, Role::kThrottle, Role::kBrake};
    for (size_t i = 0; i < n && i < 3; ++i) roles_[i] = positional[i];
  }
  turn_based_ = false;
}

std::optional<int64_t> HumanInput::action_for_mask(unsigned mask) const {
  for (const auto& b : bindings_)
    if (b.mask == mask && b.special == Key::kUnknown) return b.action;
  return std::nullopt;
}

std::optional<int64_t> HumanInput::action_for_largest_part(unsigned mask) const {
  std::optional<int64_t> chosen;
  int best_bits = 0;
  for (const auto& b : bindings_) {
    if (b.special != Key::kUnknown || b.mask == 0 || (b.mask & ~mask) != 0) continue;
    const int bits = std::popcount(b.mask);
    if (bits > best_bits) best_bits = bits, chosen = b.action;
  }
  return chosen;
}

std::optional<int64_t> HumanInput::action_for_key(Key key) const {
  const int digit = key_digit(key);
  if (digit >= 0) {
    if (digit < num_actions_) return digit;
    return std::nullopt;
  }
  for (const auto& b : bindings_)
    if (b.special != Key::kUnknown && b.special == key) return b.action;
  const unsigned bit = key_bit(key);
  return bit ? action_for_mask(bit) : std::nullopt;
}

bool HumanInput::is_bound(Key key) const {
  const unsigned bit = key_bit(key);
  if (continuous_) return bit != 0 && bit != kFireBit;
  // In real time every arrow and space takes part in key combinations.
  if (!turn_based_ && bit != 0) return true;
  return action_for_key(key).has_value();
}

bool HumanInput::on_key(const KeyEvent& event) {
  if (!is_bound(event.key)) return false;
  if (turn_based_) {
    if (event.pressed) turns_.push_back(*action_for_key(event.key));
    return true;
  }
  const unsigned bit = key_bit(event.key);
  if (bit == 0) {  // A digit or a named key (z/x/enter) selects one action directly.
    const int64_t action = *action_for_key(event.key);
    if (event.pressed)
      held_direct_ = tapped_direct_ = action;
    else if (held_direct_ == action)
      held_direct_ = -1;
    return true;
  }
  if (event.pressed) {
    held_ |= bit;
    tapped_ |= bit;
  } else {
    held_ &= ~bit;
  }
  return true;
}

std::optional<int64_t> HumanInput::next_turn() {
  if (turns_.empty()) return std::nullopt;
  const int64_t action = turns_.front();
  turns_.erase(turns_.begin());
  return action;
}

Action HumanInput::current_action() {
  const unsigned active = held_ | tapped_;
  const int64_t direct = held_direct_ >= 0 ? held_direct_ : tapped_direct_;
  tapped_ = 0;
  tapped_direct_ = -1;
  if (continuous_) return continuous_action(active);
  if (direct >= 0) {
    last_action_ = direct;
    return Action::discrete(direct);
  }
  // The exact key combination, else the largest bound sub-combination, else no-op.
  std::optional<int64_t> chosen = action_for_mask(active);
  if (!chosen) chosen = action_for_largest_part(active);
  if (!chosen && active == 0) chosen = noop_;
  if (!chosen) chosen = noop_.value_or(last_action_);
  last_action_ = *chosen;
  return Action::discrete(*chosen);
}

Action HumanInput::continuous_action(unsigned active) {
  const bool has_brake = std::find(roles_.begin(), roles_.end(), Role::kBrake) != roles_.end();
  for (size_t i = 0; i < values_.size(); ++i) {
    float v = 0.f;
    switch (roles_[i]) {
      case Role::kSteer:
        if ((active & kLeftBit) && !(active & kRightBit)) v = low_[i];
        if ((active & kRightBit) && !(active & kLeftBit)) v = high_[i];
        break;
      case Role::kThrottle:
        if (active & kUpBit)
          v = high_[i];
        else if ((active & kDownBit) && !has_brake)
          v = low_[i];
        break;
      case Role::kBrake:
        if (active & kDownBit) v = high_[i];
        break;
      case Role::kNone:
        break;
    }
    values_[i] = std::clamp(v, low_[i], high_[i]);
  }
  return Action::continuous(values_);
}

void HumanInput::clear() {
  held_ = tapped_ = 0;
  held_direct_ = tapped_direct_ = -1;
  turns_.clear();
}

std::string HumanInput::describe() const {
  if (continuous_) {
    std::string out;
    const char* role_keys[] = {"", "left/right", "up", "down"};
    for (size_t i = 0; i < roles_.size(); ++i)
      if (roles_[i] != Role::kNone)
        out += (out.empty() ? "" : ", ") + std::string(role_keys[static_cast<int>(roles_[i])]) +
               ": component " + std::to_string(i);
    return out;
  }
  std::string out;
  for (const auto& b : bindings_) {
    const std::string keys = b.special == Key::kZ       ? "z"
                             : b.special == Key::kX     ? "x"
                             : b.special == Key::kEnter ? "enter"
                                                        : mask_keys(b.mask);
    out += (out.empty() ? "" : ", ") + keys + ": action " + std::to_string(b.action);
  }
  if (num_actions_ > 0)
    out += (out.empty() ? "" : ", ") + std::string("0-") +
           std::to_string(std::min<int64_t>(9, num_actions_ - 1)) + ": action by number";
  return out;
}

}  // namespace rl::render
