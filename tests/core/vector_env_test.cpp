#include "core/vector_env.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/registry.h"
#include "core/thread_pool.h"

namespace rl {
namespace {

// A random walk: the observation is [position, noise]; each step moves by the action minus
// one plus a random jitter. Terminates when |position| reaches 3; truncates at `limit` steps.
class WalkEnv final : public Env {
 public:
  explicit WalkEnv(int64_t limit = 6)
      : Env(EnvSpec{"test/walk-v0",
                    "random walk",
                    Space::box({2}, -1e6f, 1e6f, DType::kF32),
                    Space::discrete(3),
                    -10.f,
                    10.f,
                    limit,
                    std::nullopt,
                    {}}) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    position_ = static_cast<int>(rng().integer(-1, 1));
    write(obs, 0.f);
  }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    const float noise = static_cast<float>(rng().uniform());
    position_ += static_cast<int>(a.index) - 1;
    write(obs, noise);
    return {static_cast<float>(position_) + noise, std::abs(position_) >= 3, false};
  }
  void do_render(Image& out) const override { out.resize(1, 1); }

 private:
  void write(ObsBuffer obs, float noise) {
    as_f32(obs)[0] = static_cast<float>(position_);
    as_f32(obs)[1] = noise;
  }
  int position_ = 0;
};

// A continuous-action env whose observation echoes the last action.
class EchoEnv final : public Env {
 public:
  EchoEnv()
      : Env(EnvSpec{"test/echo-v0",
                    "echo",
                    Space::box({2}, -1.f, 1.f, DType::kF32),
                    Space::box({2}, -1.f, 1.f, DType::kF32),
                    -2.f,
                    2.f,
                    3,
                    std::nullopt,
                    {}}) {}

 protected:
  void do_reset(ObsBuffer obs) override { as_f32(obs)[0] = as_f32(obs)[1] = 0.f; }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    as_f32(obs)[0] = a.values[0];
    as_f32(obs)[1] = a.values[1];
    return {a.values[0] + a.values[1], false, false};
  }
  void do_render(Image& out) const override { out.resize(1, 1); }
};

// Observation [steps taken]. Action 0 terminates the episode, the others go on until the step
// limit of 3 truncates it. Action 2 is legal only after an odd number of steps, so the first
// observation of every episode restricts the actions.
class GateEnv final : public Env {
 public:
  GateEnv()
      : Env(EnvSpec{"test/gate-v0",
                    "gate",
                    Space::box({1}, 0.f, 3.f, DType::kF32),
                    Space::discrete(3),
                    0.f,
                    1.f,
                    3,
                    std::nullopt,
                    {}}) {}
  bool legal_actions(std::span<uint8_t> mask) const override {
    mask[0] = mask[1] = 1;
    mask[2] = steps_ % 2;
    return true;
  }

 protected:
  void do_reset(ObsBuffer obs) override { as_f32(obs)[0] = static_cast<float>(steps_ = 0); }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    as_f32(obs)[0] = static_cast<float>(++steps_);
    return {1.f, a.index == 0, false};
  }
  void do_render(Image& out) const override { out.resize(1, 1); }

 private:
  int steps_ = 0;
};

std::vector<float> row(std::span<const uint8_t> bytes, int i, size_t row_bytes) {
  std::vector<float> values(row_bytes / sizeof(float));
  std::memcpy(values.data(), bytes.data() + i * row_bytes, row_bytes);
  return values;
}

TEST_CASE("thread pool: every index runs exactly once, jobs reuse the workers") {
  ThreadPool pool(3);
  CHECK(pool.size() == 3);
  for (int job = 0; job < 50; ++job) {
    const int count = 1 + job % 17;
    std::vector<std::atomic<int>> hits(count);
    pool.parallel_for(count, [&](int i) { hits[i].fetch_add(1); });
    for (int i = 0; i < count; ++i) REQUIRE(hits[i].load() == 1);
  }
  CHECK_THROWS_AS(ThreadPool(-1), std::invalid_argument);
}

TEST_CASE("thread pool: an exception in a task is rethrown after the job finishes") {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  CHECK_THROWS_AS(pool.parallel_for(8,
                                    [&](int i) {
                                      ran.fetch_add(1);
                                      if (i == 5) throw std::runtime_error("task 5");
                                    }),
                  std::runtime_error);
  CHECK(ran.load() == 8);
  // The pool is still usable afterwards.
  std::atomic<int> sum{0};
  pool.parallel_for(4, [&](int i) { sum.fetch_add(i); });
  CHECK(sum.load() == 6);
}

TEST_CASE("vector env: env i is seeded with base_seed + i") {
  const uint64_t base = 1234;
  VectorEnv vec([] { return std::make_unique<WalkEnv>(); }, 4, base);
  vec.reset();
  CHECK(vec.size() == 4);
  CHECK(vec.observation_bytes() == 2 * sizeof(float));
  CHECK(vec.spec().id == "test/walk-v0");
  std::vector<uint8_t> obs(vec.observation_bytes());
  for (int i = 0; i < 4; ++i) {
    WalkEnv single;
    single.reset(base + i, obs);
    CHECK(row(vec.observations(), i, obs.size()) == row(obs, 0, obs.size()));
  }
  CHECK(vec.finished_episodes().empty());
}

TEST_CASE("vector env: auto-reset keeps the final observation and matches single envs") {
  const int n = 3;
  const uint64_t base = 7;
  VectorEnv vec([] { return std::make_unique<WalkEnv>(); }, n, base);
  vec.reset();
  std::vector<std::unique_ptr<WalkEnv>> singles;
  std::vector<std::vector<uint8_t>> single_obs(n, std::vector<uint8_t>(vec.observation_bytes()));
  for (int i = 0; i < n; ++i) {
    singles.push_back(std::make_unique<WalkEnv>());
    singles[i]->reset(base + i, single_obs[i]);
  }
  Rng action_rng(99);
  int episodes_seen = 0, terminations = 0, truncations = 0;
  for (int t = 0; t < 200; ++t) {
    std::vector<int64_t> actions(n);
    for (auto& a : actions) a = action_rng.integer(0, 2);
    vec.step(actions);
    int finished_here = 0;
    for (int i = 0; i < n; ++i) {
      const StepResult r = singles[i]->step(Action::discrete(actions[i]), single_obs[i]);
      REQUIRE(vec.rewards()[i] == r.reward);
      REQUIRE(bool(vec.terminated()[i]) == r.terminated);
      REQUIRE(bool(vec.truncated()[i]) == r.truncated);
      REQUIRE(vec.done(i) == r.done());
      if (r.done()) {
        // The final observation is exposed; observations() already holds the next episode.
        REQUIRE(row(vec.final_observations(), i, single_obs[i].size()) ==
                row(single_obs[i], 0, single_obs[i].size()));
        const auto& fin = vec.finished_episodes().at(finished_here++);
        CHECK(fin.env_index == i);
        CHECK(fin.length == singles[i]->episode_steps());
        CHECK(fin.episode_return == doctest::Approx(singles[i]->episode_return()));
        terminations += r.terminated;
        truncations += r.truncated;
        ++episodes_seen;
        singles[i]->reset(single_obs[i]);
      }
      REQUIRE(row(vec.observations(), i, single_obs[i].size()) ==
              row(single_obs[i], 0, single_obs[i].size()));
    }
    CHECK(static_cast<int>(vec.finished_episodes().size()) == finished_here);
  }
  // The walk must have produced both kinds of episode ends for this test to mean anything.
  CHECK(terminations > 0);
  CHECK(truncations > 0);
  CHECK(episodes_seen == terminations + truncations);
}

TEST_CASE("vector env: next_observation is the final observation after an auto-reset") {
  const int n = 3;
  const uint64_t base = 11;
  VectorEnv vec([] { return std::make_unique<WalkEnv>(); }, n, base);
  vec.reset();
  const size_t bytes = vec.observation_bytes();
  std::vector<std::unique_ptr<WalkEnv>> singles;
  std::vector<std::vector<uint8_t>> single_obs(n, std::vector<uint8_t>(bytes));
  for (int i = 0; i < n; ++i) {
    singles.push_back(std::make_unique<WalkEnv>());
    singles[i]->reset(base + i, single_obs[i]);
    CHECK(row(vec.next_observation(i), 0, bytes) == row(vec.observations(), i, bytes));
  }
  Rng action_rng(3);
  std::vector<int64_t> actions(n);
  std::vector<uint8_t> batch(n * bytes);
  int terminations = 0, truncations = 0;
  for (int t = 0; t < 200; ++t) {
    for (auto& a : actions) a = action_rng.integer(0, 2);
    vec.step(actions);
    vec.copy_next_observations(batch);
    for (int i = 0; i < n; ++i) {
      // s' is what the single env shows right after the step, before any reset.
      const StepResult r = singles[i]->step(Action::discrete(actions[i]), single_obs[i]);
      REQUIRE(vec.next_observation(i).size() == bytes);
      REQUIRE(row(vec.next_observation(i), 0, bytes) == row(single_obs[i], 0, bytes));
      REQUIRE(row(batch, i, bytes) == row(single_obs[i], 0, bytes));
      if (!r.done()) continue;
      // Terminated and truncated episodes both hand out their final observation (the
      // learner bootstraps from a truncated one), while the flags stay apart.
      REQUIRE(vec.done(i));
      REQUIRE(bool(vec.terminated()[i]) == r.terminated);
      REQUIRE(bool(vec.truncated()[i]) == r.truncated);
      REQUIRE(row(vec.next_observation(i), 0, bytes) == row(vec.final_observations(), i, bytes));
      terminations += r.terminated;
      truncations += r.truncated && !r.terminated;
      singles[i]->reset(single_obs[i]);
      // observations() already holds the new episode, which next_observation does not hand out.
      REQUIRE(row(vec.observations(), i, bytes) == row(single_obs[i], 0, bytes));
    }
  }
  CHECK(terminations > 0);
  CHECK(truncations > 0);
  std::vector<uint8_t> wrong(n * bytes - 1);
  CHECK_THROWS_WITH_AS(vec.copy_next_observations(wrong), doctest::Contains("expected 24"),
                       std::invalid_argument);
  CHECK_THROWS_AS(vec.next_observation(n), std::out_of_range);
  CHECK_THROWS_AS(vec.next_observation(-1), std::out_of_range);
}

TEST_CASE("vector env: next_legal_actions is all legal where an episode ended") {
  VectorEnv vec([] { return std::make_unique<GateEnv>(); }, 3, 0);
  vec.reset();
  std::vector<uint8_t> mask(3, 7);
  CHECK(vec.next_legal_actions(0, mask));
  CHECK(mask == std::vector<uint8_t>{1, 1, 0});
  // Env 0 terminates at the first step; envs 1 and 2 go on until the step limit truncates them.
  const std::vector<int64_t> first = {0, 1, 1}, later = {1, 1, 1};
  for (const auto* actions : {&first, &later}) {
    vec.step(*actions);
    const auto steps = static_cast<uint8_t>(row(vec.observations(), 1, 4)[0]);
    CHECK(vec.next_legal_actions(1, mask));
    CHECK(mask == std::vector<uint8_t>{1, 1, static_cast<uint8_t>(steps % 2)});
  }
  vec.step(later);
  REQUIRE(!vec.done(0));
  CHECK(vec.next_legal_actions(0, mask));  // Two steps into its second episode.
  CHECK(mask == std::vector<uint8_t>{1, 1, 0});
  REQUIRE(vec.truncated()[2]);
  REQUIRE(!vec.terminated()[2]);
  std::vector<uint8_t> current(3);
  REQUIRE(vec.env(2).legal_actions(current));
  REQUIRE(current == std::vector<uint8_t>{1, 1, 0});  // The new episode's first observation.
  std::fill(mask.begin(), mask.end(), 0);
  CHECK_FALSE(vec.next_legal_actions(2, mask));
  CHECK(mask == std::vector<uint8_t>{1, 1, 1});
  const std::vector<int64_t> stop = {0, 0, 0};
  vec.step(stop);  // Every env terminates.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(vec.terminated()[i]);
    std::fill(mask.begin(), mask.end(), 0);
    CHECK_FALSE(vec.next_legal_actions(i, mask));
    CHECK(mask == std::vector<uint8_t>{1, 1, 1});
  }

  // Envs that do not restrict their actions: all legal.
  VectorEnv walks([] { return std::make_unique<WalkEnv>(); }, 1, 0);
  walks.reset();
  std::fill(mask.begin(), mask.end(), 0);
  CHECK_FALSE(walks.next_legal_actions(0, mask));
  CHECK(mask == std::vector<uint8_t>{1, 1, 1});

  std::vector<uint8_t> short_mask(2);
  CHECK_THROWS_WITH_AS(vec.next_legal_actions(0, short_mask),
                       doctest::Contains("mask of 2 bytes, expected 3"), std::invalid_argument);
  CHECK_THROWS_AS(vec.next_legal_actions(3, mask), std::out_of_range);
  VectorEnv echoes([] { return std::make_unique<EchoEnv>(); }, 1, 0);
  echoes.reset();
  CHECK_THROWS_WITH_AS(echoes.next_legal_actions(0, mask),
                       doctest::Contains("needs a Discrete action space"), std::invalid_argument);
}

template <typename MakeEnv>
void check_thread_mode_matches_sync(MakeEnv make, int n, int steps, int64_t num_actions) {
  VectorEnv sync_vec(make, n, 42, VectorMode::kSync);
  VectorEnv thread_vec(make, n, 42, VectorMode::kThreads, 2);
  sync_vec.reset();
  thread_vec.reset();
  Rng action_rng(5);
  std::vector<int64_t> actions(n);
  int finished = 0;
  for (int t = 0; t < steps; ++t) {
    for (auto& a : actions) a = action_rng.integer(0, num_actions - 1);
    sync_vec.step(actions);
    thread_vec.step(actions);
    const auto same_bytes = [](std::span<const uint8_t> a, std::span<const uint8_t> b) {
      return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
    };
    REQUIRE(same_bytes(sync_vec.observations(), thread_vec.observations()));
    REQUIRE(std::memcmp(sync_vec.rewards().data(), thread_vec.rewards().data(),
                        n * sizeof(float)) == 0);
    REQUIRE(same_bytes(sync_vec.terminated(), thread_vec.terminated()));
    REQUIRE(same_bytes(sync_vec.truncated(), thread_vec.truncated()));
    for (int i = 0; i < n; ++i)
      if (sync_vec.done(i)) {
        const size_t bytes = sync_vec.observation_bytes();
        REQUIRE(std::memcmp(sync_vec.final_observations().data() + i * bytes,
                            thread_vec.final_observations().data() + i * bytes, bytes) == 0);
      }
    REQUIRE(sync_vec.finished_episodes().size() == thread_vec.finished_episodes().size());
    for (size_t k = 0; k < sync_vec.finished_episodes().size(); ++k) {
      const auto& a = sync_vec.finished_episodes()[k];
      const auto& b = thread_vec.finished_episodes()[k];
      REQUIRE(a.env_index == b.env_index);
      REQUIRE(a.length == b.length);
      REQUIRE(a.episode_return == b.episode_return);
    }
    finished += static_cast<int>(sync_vec.finished_episodes().size());
  }
  CHECK(finished > 0);
}

TEST_CASE("vector env: thread mode is bit-identical to sync mode") {
  SUBCASE("random walk") {
    check_thread_mode_matches_sync([] { return std::make_unique<WalkEnv>(); }, 8, 300, 3);
  }
  SUBCASE("cartpole from the registry") {
    check_thread_mode_matches_sync([] { return EnvRegistry::global().make("classic/cartpole-v1"); },
                                   8, 400, 2);
  }
}

TEST_CASE("vector env: continuous actions are split per env") {
  VectorEnv vec([] { return std::make_unique<EchoEnv>(); }, 2, 0, VectorMode::kThreads, 2);
  vec.reset();
  const std::vector<float> actions = {0.1f, 0.2f, -0.5f, 0.75f};
  vec.step(std::span<const float>(actions));
  CHECK(row(vec.observations(), 0, 8) == std::vector<float>{0.1f, 0.2f});
  CHECK(row(vec.observations(), 1, 8) == std::vector<float>{-0.5f, 0.75f});
  CHECK(vec.rewards()[1] == doctest::Approx(0.25f));
  CHECK_THROWS_AS(vec.step(std::span<const float>(actions.data(), 3)), std::invalid_argument);
  const std::vector<int64_t> discrete = {0, 1};
  CHECK_THROWS_AS(vec.step(std::span<const int64_t>(discrete)), std::invalid_argument);
}

TEST_CASE("vector env: misuse gives clear errors") {
  const auto make = [] { return std::make_unique<WalkEnv>(); };
  CHECK_THROWS_AS(VectorEnv(make, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(VectorEnv(make, 2, 0, VectorMode::kThreads, -3), std::invalid_argument);
  CHECK_THROWS_AS(VectorEnv([] { return std::unique_ptr<Env>(); }, 2, 0), std::invalid_argument);
  int built = 0;
  CHECK_THROWS_AS(VectorEnv(
                      [&]() -> std::unique_ptr<Env> {
                        if (built++ == 0) return std::make_unique<WalkEnv>();
                        return std::make_unique<EchoEnv>();
                      },
                      2, 0),
                  std::invalid_argument);

  VectorEnv vec(make, 2, 0);
  const std::vector<int64_t> actions = {1, 1};
  CHECK_THROWS_AS(vec.step(std::span<const int64_t>(actions)), std::logic_error);
  vec.reset();
  const std::vector<int64_t> too_few = {1};
  CHECK_THROWS_AS(vec.step(std::span<const int64_t>(too_few)), std::invalid_argument);
  const std::vector<int64_t> out_of_range = {1, 3};
  CHECK_THROWS_AS(vec.step(std::span<const int64_t>(out_of_range)), std::invalid_argument);
  CHECK_THROWS_AS(vec.env(2), std::out_of_range);
  CHECK(vec.env(1).spec().id == "test/walk-v0");
}

}  // namespace
}  // namespace rl
