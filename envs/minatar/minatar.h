// The MinAtar games (Young & Tian 2019, github.com/kenjyoung/MinAtar): five Atari-like games
// on a 10x10 grid whose rules follow the reference's minatar/environments/*.py, and the Env
// that wraps any of them with the reference's sticky actions and action sets.
//
// A game is a plain class (Asterix, Breakout, Freeway, Seaquest, SpaceInvaders) with:
//   static constexpr int kChannels;                     observation planes
//   static constexpr const char* kName;                 "breakout"
//   static constexpr bool kRamps;                       has a difficulty_ramping option
//   static constexpr std::array<int, N> kMinimalActions the reference's minimal action set
//   static constexpr std::array<Color, kChannels> kChannelColors
//   void reset(Rng&); Outcome act(int action, Rng&); void write_observation(uint8_t*) const;
//   State& state();   plain data, public so tests can set up positions directly.
// Games draw every random number from the Rng they are given (the env's own).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/image.h"
#include "core/params.h"
#include "core/registry.h"
#include "core/rng.h"

namespace rl::minatar {

inline constexpr int kSize = 10;              // The board is kSize x kSize cells.
inline constexpr int kPlane = kSize * kSize;  // Bytes per observation channel.

// The reference's full action set, in its order ('n','l','u','r','d','f').
enum ActionId : int { kNoop = 0, kLeft = 1, kUp = 2, kRight = 3, kDown = 4, kFire = 5 };
inline constexpr int kNumActions = 6;
// Display names of the six actions, indexed by ActionId.
extern const std::array<const char*, kNumActions> kActionNames;

// What one frame of a game produced.
struct Outcome {
  int reward = 0;
  bool terminal = false;
};

// Sets cell (y, x) of `channel` in a channel-first C x 10 x 10 observation.
inline void mark(uint8_t* obs, int channel, int y, int x) {
  obs[channel * kPlane + y * kSize + x] = 1;
}

// Draws a C x 10 x 10 observation as a grid of coloured cells (cell_px pixels each, thin grid
// lines). A cell takes the colour of its highest set channel, as the reference's display does.
void render_observation(const uint8_t* obs, int channels, const Color* colors, int cell_px,
                        Image& out);

// Parameters shared by every MinAtar id; `ramps` adds difficulty_ramping.
std::vector<ParamSpec> minatar_params(bool ramps);

// A MinAtar game behind the Env contract. Action `i` of the Discrete space means
// action_set[i] of the full set; with probability sticky_action_prob the previous full
// action repeats instead (the previous action starts as no-op when the env is seeded and
// carries over into auto-reset episodes, as in the reference).
template <class Game>
class MinAtarEnv final : public Env {
 public:
  MinAtarEnv(EnvSpec spec, std::vector<int> action_set, const Params& p)
      : Env(std::move(spec)),
        game_(Game::kRamps ? p.get_bool("difficulty_ramping") : false),
        action_set_(std::move(action_set)),
        sticky_action_prob_(p.get_float("sticky_action_prob")) {}

  const Game& game() const { return game_; }

 protected:
  void on_seed(uint64_t) override { last_action_ = kNoop; }

  void do_reset(ObsBuffer obs) override {
    game_.reset(rng());
    game_.write_observation(obs.data());
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    int chosen = action_set_[static_cast<size_t>(action.index)];
    if (rng().uniform() < sticky_action_prob_) chosen = last_action_;
    last_action_ = chosen;
    const Outcome outcome = game_.act(chosen, rng());
    game_.write_observation(obs.data());
    StepResult result;
    result.reward = static_cast<float>(outcome.reward);
    result.terminated = outcome.terminal;
    return result;
  }

  void do_render(Image& out) const override {
    std::array<uint8_t, Game::kChannels * kPlane> obs;
    game_.write_observation(obs.data());
    render_observation(obs.data(), Game::kChannels, Game::kChannelColors.data(), 20, out);
  }

 private:
  Game game_;
  std::vector<int> action_set_;
  double sticky_action_prob_;
  int last_action_ = kNoop;
};

// The registry entry of `Game` with the minimal action set (id "-v1") or all six actions
// ("-v0"). `max_reward` bounds a single frame's reward.
template <class Game>
EnvEntry minatar_entry(bool minimal_actions, const std::string& description, float max_reward) {
  std::vector<int> actions;
  if (minimal_actions) {
    actions.assign(Game::kMinimalActions.begin(), Game::kMinimalActions.end());
  } else {
    for (int a = 0; a < kNumActions; ++a) actions.push_back(a);
  }
  EnvSpec spec;
  spec.id = std::string("minatar/") + Game::kName + (minimal_actions ? "-v1" : "-v0");
  spec.description = description + (minimal_actions ? " (minimal action set)" : " (all 6 actions)");
  spec.observation_space = Space::box({Game::kChannels, kSize, kSize}, 0.f, 1.f, DType::kU8);
  spec.action_space = Space::discrete(static_cast<int64_t>(actions.size()));
  spec.reward_min = 0.f;
  spec.reward_max = max_reward;
  for (int a : actions) spec.action_names.push_back(kActionNames[a]);
  EnvEntry entry;
  entry.id = spec.id;
  entry.description = spec.description;
  entry.params = minatar_params(Game::kRamps);
  entry.factory = [spec, actions](const Params& p) -> std::unique_ptr<Env> {
    EnvSpec s = spec;
    s.max_episode_steps = p.get_int("max_episode_steps");
    return std::make_unique<MinAtarEnv<Game>>(std::move(s), actions, p);
  };
  return entry;
}

}  // namespace rl::minatar
