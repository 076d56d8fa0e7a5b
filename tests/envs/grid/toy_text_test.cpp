// CliffWalking and FrozenLake: Gymnasium's rules, state numbering and slip distribution.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "core/registry.h"

namespace rl {
namespace {

struct Tabular {
  std::unique_ptr<Env> env;
  std::vector<uint8_t> obs;

  explicit Tabular(const std::string& id, const std::map<std::string, ParamValue>& params = {}) {
    env = EnvRegistry::global().make(id, params);
    obs.resize(env->spec().observation_space.bytes());
  }
  // The state index encoded in a one-hot observation (checks it is one-hot).
  int state() const {
    REQUIRE(std::count(obs.begin(), obs.end(), 1) == 1);
    REQUIRE(std::count(obs.begin(), obs.end(), 0) == static_cast<long>(obs.size()) - 1);
    return static_cast<int>(std::find(obs.begin(), obs.end(), 1) - obs.begin());
  }
  StepResult step(int64_t a) { return env->step(Action::discrete(a), obs); }
};

// CliffWalking actions.
constexpr int kUp = 0, kRight = 1, kDown = 2, kLeft = 3;

TEST_CASE("CliffWalking: the cliff costs -100 and sends the agent back to the start") {
  Tabular t("grid/cliffwalking-v0");
  CHECK(t.env->spec().observation_space.shape == std::vector<int64_t>{48});
  t.env->reset(0, t.obs);
  CHECK(t.state() == 36);
  const StepResult fall = t.step(kRight);
  CHECK(fall.reward == -100.f);
  CHECK_FALSE(fall.done());
  CHECK(t.state() == 36);

  // Walking along the edge of the board is clipped: -1 and no move.
  const StepResult bump = t.step(kLeft);
  CHECK(bump.reward == -1.f);
  CHECK(t.state() == 36);

  // From the row above the cliff, stepping down into it also falls.
  t.step(kUp);
  t.step(kRight);
  CHECK(t.state() == 25);
  CHECK(t.step(kDown).reward == -100.f);
  CHECK(t.state() == 36);
}

TEST_CASE("CliffWalking: the safe path along the cliff edge returns -13") {
  Tabular t("grid/cliffwalking-v0");
  t.env->reset(0, t.obs);
  std::vector<int> path{kUp};
  for (int i = 0; i < 11; ++i) path.push_back(kRight);
  path.push_back(kDown);
  StepResult r;
  for (size_t i = 0; i < path.size(); ++i) {
    r = t.step(path[i]);
    if (i + 1 < path.size()) CHECK_FALSE(r.done());
  }
  CHECK(r.terminated);
  CHECK(t.state() == 47);
  CHECK(t.env->episode_return() == doctest::Approx(-13.0));
}

// FrozenLake actions.
constexpr int kLakeLeft = 0, kLakeDown = 1, kLakeRight = 2;

TEST_CASE("FrozenLake: reaching G pays 1, a hole ends the episode with 0") {
  Tabular t("grid/frozenlake-4x4-v0", {{"is_slippery", false}});
  CHECK(t.env->spec().max_episode_steps == 100);
  t.env->reset(0, t.obs);
  CHECK(t.state() == 0);
  const int path[] = {kLakeDown, kLakeDown, kLakeRight, kLakeDown, kLakeRight, kLakeRight};
  StepResult r;
  for (int a : path) {
    CHECK_FALSE(r.done());
    r = t.step(a);
  }
  CHECK(t.state() == 15);
  CHECK(r.terminated);
  CHECK(r.reward == 1.f);

  t.env->reset(t.obs);
  t.step(kLakeRight);
  const StepResult hole = t.step(kLakeDown);  // (1, 1) is a hole.
  CHECK(t.state() == 5);
  CHECK(hole.terminated);
  CHECK(hole.reward == 0.f);
}

TEST_CASE("FrozenLake: slippery moves go the intended way or perpendicular, 1/3 each") {
  Tabular t("grid/frozenlake-8x8-v0");
  CHECK(t.env->spec().max_episode_steps == 200);
  const int trials = 30000;
  // From the start, "down" lands on 8 (down), 0 (left: blocked) or 1 (right).
  std::map<int, int> down_outcomes, left_outcomes;
  t.env->reset(99, t.obs);
  for (int i = 0; i < trials; ++i) {
    t.env->reset(t.obs);
    t.step(kLakeDown);
    ++down_outcomes[t.state()];
    t.env->reset(t.obs);
    t.step(kLakeLeft);  // Left (blocked) or up (blocked) stay at 0, down goes to 8.
    ++left_outcomes[t.state()];
  }
  CHECK(down_outcomes.size() == 3);
  for (int s : {0, 1, 8})
    CHECK(down_outcomes[s] / double(trials) == doctest::Approx(1.0 / 3).epsilon(0.05));
  CHECK(left_outcomes.size() == 2);
  CHECK(left_outcomes[0] / double(trials) == doctest::Approx(2.0 / 3).epsilon(0.05));
  CHECK(left_outcomes[8] / double(trials) == doctest::Approx(1.0 / 3).epsilon(0.05));
}

TEST_CASE("tabular envs offer the state index as a one-byte observation") {
  Tabular t("grid/frozenlake-8x8-v0",
            {{"observation", std::string("index")}, {"is_slippery", false}});
  CHECK(t.env->spec().observation_space.shape == std::vector<int64_t>{1});
  t.env->reset(0, t.obs);
  CHECK(t.obs[0] == 0);
  t.step(kLakeRight);
  CHECK(t.obs[0] == 1);
  t.step(kLakeDown);
  CHECK(t.obs[0] == 9);
}

TEST_CASE("tabular envs render their board with the agent as a red marker") {
  struct Case {
    const char* id;
    int cols, rows, agent_col, agent_row;
  };
  for (const Case c :
       {Case{"grid/cliffwalking-v0", 12, 4, 0, 3}, Case{"grid/frozenlake-4x4-v0", 4, 4, 0, 0}}) {
    INFO(c.id);
    Tabular t(c.id);
    t.env->reset(0, t.obs);
    Image img;
    t.env->render(img);
    REQUIRE(img.width % c.cols == 0);
    const int tile = img.width / c.cols;
    CHECK(img.height == c.rows * tile);
    CHECK(img.at(c.agent_col * tile + tile / 2, c.agent_row * tile + tile / 2) == Color{255, 0, 0});
    CHECK(img.at(5 * tile / 2, tile / 2 + tile) != Color{255, 0, 0});
  }
}

}  // namespace
}  // namespace rl
