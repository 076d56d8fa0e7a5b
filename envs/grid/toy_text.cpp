// The tabular classics, with Gymnasium's toy_text rules and state numbering
// (state = row * columns + column):
//   CliffWalking (Sutton & Barto, Example 6.6): 4x12, start bottom-left, goal bottom-right,
//     the cells between them are a cliff. -1 per step; stepping into the cliff costs -100 and
//     sends the agent back to the start (the episode goes on). Actions: up, right, down, left.
//   FrozenLake: walk from S to G over frozen tiles F without falling into a hole H. Reward 1
//     at the goal; holes and the goal end the episode. With is_slippery the agent moves in the
//     intended direction or one of the two perpendicular ones, 1/3 each. Actions: left, down,
//     right, up.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"

namespace rl::grid {
namespace {

// Observation of a tabular state: "onehot" (n bytes, 1 at the state) or "index" (1 byte).
enum class TabularObs { kOneHot, kIndex };

std::vector<ParamSpec> tabular_params(int64_t default_max_steps, int64_t min_max_steps) {
  return {
      {"observation",
       std::string("onehot"),
       "onehot: u8 vector with a 1 at the state index; index: one u8 holding the state index",
       std::nullopt,
       std::nullopt,
       {"onehot", "index"}},
      {"max_episode_steps",
       default_max_steps,
       min_max_steps == 0 ? "Truncate episodes after this many steps (0: never)"
                          : "Truncate episodes after this many steps",
       static_cast<double>(min_max_steps),
       1e9,
       {}},
  };
}

TabularObs parse_obs(const Params& p) {
  return p.get_string("observation") == "index" ? TabularObs::kIndex : TabularObs::kOneHot;
}

Space tabular_space(TabularObs mode, int num_states) {
  if (mode == TabularObs::kIndex)
    return Space::box({1}, 0.f, static_cast<float>(num_states - 1), DType::kU8);
  return Space::box({num_states}, 0.f, 1.f, DType::kU8);
}

void write_state(TabularObs mode, int state, int num_states, ObsBuffer obs) {
  if (mode == TabularObs::kIndex) {
    obs[0] = static_cast<uint8_t>(state);
    return;
  }
  std::fill(obs.begin(), obs.begin() + num_states, uint8_t{0});
  obs[state] = 1;
}

// Base for both: a rows x cols board, the agent's cell, and its last move (for rendering).
class TabularGrid : public Env {
 protected:
  TabularGrid(EnvSpec spec, TabularObs mode, int rows, int cols)
      : Env(std::move(spec)), mode_(mode), rows_(rows), cols_(cols) {}

  int state() const { return row_ * cols_ + col_; }
  void write(ObsBuffer obs) const { write_state(mode_, state(), rows_ * cols_, obs); }
  // Moves one cell in direction d (0 right, 1 down, 2 left, 3 up), staying on the board.
  void move(int d) {
    static constexpr int kDr[4] = {0, 1, 0, -1}, kDc[4] = {1, 0, -1, 0};
    row_ = std::clamp(row_ + kDr[d], 0, rows_ - 1);
    col_ = std::clamp(col_ + kDc[d], 0, cols_ - 1);
    facing_ = d;
  }

  // Draws the board with `tile_color(row, col)` per cell and the agent as a triangle.
  template <typename TileColor>
  void draw_board(Image& out, TileColor tile_color) const {
    const int tile = 48;
    out.resize(cols_ * tile, rows_ * tile, {0, 0, 0});
    for (int r = 0; r < rows_; ++r)
      for (int c = 0; c < cols_; ++c) {
        fill_rect(out, c * tile, r * tile, tile, tile, tile_color(r, c));
        draw_rect_outline(out, c * tile, r * tile, tile, tile, 1, {100, 100, 100});
      }
    const float cx = (col_ + 0.5f) * tile, cy = (row_ + 0.5f) * tile;
    const float angle = 0.5f * static_cast<float>(M_PI) * facing_;
    const float cs = std::cos(angle), sn = std::sin(angle);
    const float pts[3][2] = {{-0.38f, -0.31f}, {0.37f, 0.f}, {-0.38f, 0.31f}};
    float xy[6];
    for (int i = 0; i < 3; ++i) {
      xy[2 * i] = cx + (pts[i][0] * cs - pts[i][1] * sn) * tile;
      xy[2 * i + 1] = cy + (pts[i][0] * sn + pts[i][1] * cs) * tile;
    }
    fill_triangle(out, xy[0], xy[1], xy[2], xy[3], xy[4], xy[5], {255, 0, 0});
  }

  TabularObs mode_;
  int rows_, cols_;
  int row_ = 0, col_ = 0;
  int facing_ = 0;
};

class CliffWalking final : public TabularGrid {
 public:
  static constexpr int kRows = 4, kCols = 12;

  explicit CliffWalking(const Params& p) : TabularGrid(make_spec(p), parse_obs(p), kRows, kCols) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    row_ = kRows - 1;
    col_ = 0;
    facing_ = 3;
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    // Actions up, right, down, left as directions up(3), right(0), down(1), left(2).
    static constexpr int kDirection[4] = {3, 0, 1, 2};
    move(kDirection[action.index]);
    StepResult r;
    if (is_cliff(row_, col_)) {
      r.reward = -100.f;
      row_ = kRows - 1;
      col_ = 0;
    } else {
      r.reward = -1.f;
      r.terminated = row_ == kRows - 1 && col_ == kCols - 1;
      r.success = r.terminated;  // Reaching the goal is the only way to end an episode.
    }
    write(obs);
    return r;
  }

  void do_render(Image& out) const override {
    draw_board(out, [](int r, int c) -> rl::Color {
      if (is_cliff(r, c)) return {90, 60, 40};
      if (r == kRows - 1 && c == kCols - 1) return {0, 200, 0};
      if (r == kRows - 1 && c == 0) return {160, 160, 160};
      return {235, 235, 235};
    });
  }

 public:
  static EnvSpec make_spec(const Params& p) {
    EnvSpec spec;
    spec.id = "grid/cliffwalking-v0";
    spec.description = "Walk along a cliff to the goal; falling costs -100 (Sutton & Barto 6.6)";
    spec.observation_space = tabular_space(parse_obs(p), kRows * kCols);
    spec.action_space = Space::discrete(4);
    spec.reward_min = -100.f;
    spec.reward_max = -1.f;
    spec.max_episode_steps = p.get_int("max_episode_steps");
    spec.action_names = {"up", "right", "down", "left"};
    spec.reports_success = true;
    return spec;
  }

 private:
  static bool is_cliff(int r, int c) { return r == kRows - 1 && c > 0 && c < kCols - 1; }
};

// A square lake map (S start, F frozen, H hole, G goal), its registry id and the return at which
// it counts as solved.
struct LakeMap {
  const char* id;
  const char* const* rows;
  int size;
  double reward_threshold;
};

constexpr std::array<const char*, 4> kLake4x4Rows = {"SFFF", "FHFH", "FFFH", "HFFG"};
constexpr std::array<const char*, 8> kLake8x8Rows = {
    "SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG"};
constexpr LakeMap kLake4x4{"grid/frozenlake-4x4-v0", kLake4x4Rows.data(), 4, 0.70};
constexpr LakeMap kLake8x8{"grid/frozenlake-8x8-v0", kLake8x8Rows.data(), 8, 0.85};

class FrozenLake final : public TabularGrid {
 public:
  FrozenLake(const Params& p, const LakeMap& lake)
      : TabularGrid(make_spec(p, lake), parse_obs(p), lake.size, lake.size),
        map_(lake.rows),
        slippery_(p.get_bool("is_slippery")) {}

  static EnvSpec make_spec(const Params& p, const LakeMap& lake) {
    const std::string size = std::to_string(lake.size);
    EnvSpec spec;
    spec.id = lake.id;
    spec.description = "Cross a " + size + "x" + size +
                       " frozen lake to the goal without falling into a hole (Gymnasium "
                       "FrozenLake)";
    spec.observation_space = tabular_space(parse_obs(p), lake.size * lake.size);
    spec.action_space = Space::discrete(4);
    spec.reward_min = 0.f;
    spec.reward_max = 1.f;
    spec.max_episode_steps = p.get_int("max_episode_steps");
    spec.reward_threshold = lake.reward_threshold;
    spec.action_names = {"left", "down", "right", "up"};
    spec.reports_success = true;
    return spec;
  }

 protected:
  void do_reset(ObsBuffer obs) override {
    row_ = col_ = 0;
    facing_ = 1;
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    // Actions left, down, right, up as directions left(2), down(1), right(0), up(3).
    static constexpr int kDirection[4] = {2, 1, 0, 3};
    int a = static_cast<int>(action.index);
    if (slippery_) a = (a + 3 + static_cast<int>(rng().below(3))) % 4;  // a-1, a or a+1.
    move(kDirection[a]);
    const char tile = map_[row_][col_];
    StepResult r;
    r.reward = tile == 'G' ? 1.f : 0.f;
    r.terminated = tile == 'G' || tile == 'H';
    r.success = tile == 'G';
    write(obs);
    return r;
  }

  void do_render(Image& out) const override {
    draw_board(out, [this](int r, int c) -> rl::Color {
      switch (map_[r][c]) {
        case 'H':
          return {20, 40, 90};
        case 'G':
          return {255, 215, 0};
        case 'S':
          return {150, 200, 235};
        default:
          return {200, 230, 250};
      }
    });
  }

 private:
  const char* const* map_;
  bool slippery_;
};

std::vector<ParamSpec> frozenlake_params(int64_t max_steps) {
  auto params = tabular_params(max_steps, 1);
  params.push_back({"is_slippery",
                    true,
                    "Move in the intended or one of the two perpendicular directions, 1/3 each",
                    std::nullopt,
                    std::nullopt,
                    {}});
  return params;
}

EnvEntry frozenlake_entry(const LakeMap& lake, int64_t max_steps) {
  return entry_from_spec(
      frozenlake_params(max_steps),
      [lake](const Params& p) { return FrozenLake::make_spec(p, lake); },
      [lake](const Params& p) { return std::make_unique<FrozenLake>(p, lake); });
}

RLCADE_REGISTER_ENV(entry_from_spec(tabular_params(0, 0), CliffWalking::make_spec,
                                    [](const Params& p) {
                                      return std::make_unique<CliffWalking>(p);
                                    }));
RLCADE_REGISTER_ENV(frozenlake_entry(kLake4x4, 100));
RLCADE_REGISTER_ENV(frozenlake_entry(kLake8x8, 200));

}  // namespace
}  // namespace rl::grid
