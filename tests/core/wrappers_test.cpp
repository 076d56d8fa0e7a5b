#include "core/wrappers.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/running_stats.h"
#include "core/vector_env.h"

namespace rl {
namespace {

// Observation [t, draw]: the step count and a random number drawn at reset. Reward 2t.
// Terminates at step `terminate_at` (0 = never); truncates at `limit`.
class CountEnv final : public Env {
 public:
  explicit CountEnv(int64_t limit = 5, int terminate_at = 0)
      : Env(EnvSpec{"test/count-v0",
                    "counts",
                    Space::box({2}, -1e6f, 1e6f, DType::kF32),
                    Space::discrete(2),
                    0.f,
                    100.f,
                    limit,
                    50.0,
                    {}}),
        terminate_at_(terminate_at) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    t_ = 0;
    draw_ = static_cast<float>(rng().uniform());
    write(obs);
  }
  StepResult do_step(const Action&, ObsBuffer obs) override {
    ++t_;
    write(obs);
    return {2.f * t_, terminate_at_ > 0 && t_ == terminate_at_, false};
  }
  void do_render(Image& out) const override { out.resize(3, 2, {1, 2, 3}); }

 private:
  void write(ObsBuffer obs) {
    as_f32(obs)[0] = static_cast<float>(t_);
    as_f32(obs)[1] = draw_;
  }
  int terminate_at_;
  int t_ = 0;
  float draw_ = 0.f;
};

// u8 observations of shape [1, 2]: [t, 200 + t], never ending by itself.
class ByteEnv final : public Env {
 public:
  ByteEnv()
      : Env(EnvSpec{"test/bytes-v0",
                    "bytes",
                    Space::box({1, 2}, 0.f, 255.f, DType::kU8),
                    Space::discrete(2),
                    0.f,
                    0.f,
                    0,
                    std::nullopt,
                    {}}) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    t_ = 0;
    write(obs);
  }
  StepResult do_step(const Action&, ObsBuffer obs) override {
    ++t_;
    write(obs);
    return {};
  }
  void do_render(Image& out) const override { out.resize(1, 1); }

 private:
  void write(ObsBuffer obs) {
    obs[0] = static_cast<uint8_t>(t_);
    obs[1] = static_cast<uint8_t>(200 + t_);
  }
  int t_ = 0;
};

std::vector<float> floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

std::vector<uint8_t> obs_buffer(const Env& env) {
  return std::vector<uint8_t>(env.spec().observation_space.bytes());
}

const Action kLeft = Action::discrete(0);

TEST_CASE("wrappers: reset(seed) reaches the wrapped env, auto-reset continues its stream") {
  auto bare = EnvRegistry::global().make("classic/cartpole-v1");
  auto wrapped = apply_wrapper(apply_wrapper(EnvRegistry::global().make("classic/cartpole-v1"),
                                             "reward_scale", {{"scale", 1.0}}),
                               "episode_statistics", {});
  auto a = obs_buffer(*bare), b = obs_buffer(*wrapped);
  bare->reset(17, a);
  wrapped->reset(17, b);
  CHECK(a == b);
  Rng actions(1);
  int episodes = 0;
  for (int t = 0; t < 300; ++t) {
    const Action action = Action::discrete(actions.integer(0, 1));
    const StepResult r1 = bare->step(action, a);
    const StepResult r2 = wrapped->step(action, b);
    REQUIRE(a == b);
    REQUIRE(r1.reward == r2.reward);
    REQUIRE(r1.terminated == r2.terminated);
    if (r1.done()) {
      bare->reset(a);
      wrapped->reset(b);
      REQUIRE(a == b);
      ++episodes;
    }
  }
  CHECK(episodes > 3);
  auto* wrapper = dynamic_cast<Wrapper*>(wrapped.get());
  REQUIRE(wrapper);
  CHECK(&wrapper->unwrapped() != wrapped.get());
  CHECK(wrapper->unwrapped().spec().id == "classic/cartpole-v1");
  CHECK(find_wrapper<RewardScale>(*wrapped) != nullptr);
  CHECK(find_wrapper<FrameStack>(*wrapped) == nullptr);
  Image image;
  wrapped->render(image);
  CHECK(image.width == 600);
}

TEST_CASE("wrappers: time limit overrides the limits below it") {
  // The bare env truncates at 5; a reward-scale wrapper copies that limit; the time limit on
  // top replaces both with 8.
  auto env = std::make_unique<TimeLimit>(
      std::make_unique<RewardScale>(std::make_unique<CountEnv>(5), 1.f), 8);
  CHECK(env->spec().max_episode_steps == 8);
  auto obs = obs_buffer(*env);
  env->reset(0, obs);
  for (int t = 1; t <= 8; ++t) {
    const StepResult r = env->step(kLeft, obs);
    REQUIRE(r.truncated == (t == 8));
    REQUIRE(!r.terminated);
  }
  CHECK(env->episode_over());
  // A shorter limit, and termination still wins over truncation.
  auto short_env = apply_wrapper(std::make_unique<CountEnv>(50, 3), "time_limit",
                                 {{"max_episode_steps", int64_t{3}}});
  short_env->reset(0, obs);
  short_env->step(kLeft, obs);
  short_env->step(kLeft, obs);
  const StepResult last = short_env->step(kLeft, obs);
  CHECK(last.terminated);
  CHECK(!last.truncated);
  CHECK_THROWS_AS(TimeLimit(std::make_unique<CountEnv>(), 0), std::invalid_argument);
}

TEST_CASE("wrappers: frame stack keeps the last k observations, oldest first") {
  FrameStack env(std::make_unique<CountEnv>(100), 3);
  const Space& space = env.spec().observation_space;
  CHECK(space.shape == std::vector<int64_t>{6});
  CHECK(space.low.size() == 6);
  CHECK(space.dtype == DType::kF32);
  auto obs = obs_buffer(env);
  env.reset(3, obs);
  const float d = floats(obs)[1];
  CHECK(floats(obs) == std::vector<float>{0, d, 0, d, 0, d});
  env.step(kLeft, obs);
  CHECK(floats(obs) == std::vector<float>{0, d, 0, d, 1, d});
  env.step(kLeft, obs);
  CHECK(floats(obs) == std::vector<float>{0, d, 1, d, 2, d});
  env.step(kLeft, obs);
  CHECK(floats(obs) == std::vector<float>{1, d, 2, d, 3, d});
  // A new episode refills the stack with its first observation.
  env.reset(obs);
  const float d2 = floats(obs)[1];
  CHECK(d2 != d);
  CHECK(floats(obs) == std::vector<float>{0, d2, 0, d2, 0, d2});

  FrameStack bytes(std::make_unique<ByteEnv>(), 2);
  CHECK(bytes.spec().observation_space.shape == std::vector<int64_t>{2, 2});
  CHECK(bytes.spec().observation_space.dtype == DType::kU8);
  auto byte_obs = obs_buffer(bytes);
  bytes.reset(0, byte_obs);
  bytes.step(kLeft, byte_obs);
  CHECK(byte_obs == std::vector<uint8_t>{0, 200, 1, 201});
  CHECK_THROWS_AS(FrameStack(std::make_unique<CountEnv>(), 0), std::invalid_argument);
}

TEST_CASE("wrappers: reward clip and reward scale") {
  RewardClip clip(std::make_unique<CountEnv>(10), -1.f, 3.f);
  CHECK(clip.spec().reward_min == 0.f);
  CHECK(clip.spec().reward_max == 3.f);
  CHECK(!clip.spec().reward_threshold);
  auto obs = obs_buffer(clip);
  clip.reset(0, obs);
  CHECK(clip.step(kLeft, obs).reward == 2.f);
  CHECK(clip.step(kLeft, obs).reward == 3.f);  // 4 clipped
  CHECK(clip.step(kLeft, obs).reward == 3.f);  // 6 clipped
  CHECK(clip.episode_return() == doctest::Approx(8.0));
  CHECK_THROWS_AS(RewardClip(std::make_unique<CountEnv>(), 1.f, -1.f), std::invalid_argument);

  RewardScale scale(std::make_unique<CountEnv>(10), -0.5f);
  CHECK(scale.spec().reward_min == -50.f);
  CHECK(scale.spec().reward_max == 0.f);
  CHECK(*scale.spec().reward_threshold == doctest::Approx(-25.0));
  scale.reset(0, obs);
  CHECK(scale.step(kLeft, obs).reward == -1.f);
  CHECK(scale.step(kLeft, obs).reward == -2.f);
  CHECK_THROWS_AS(RewardScale(std::make_unique<CountEnv>(), 0.f), std::invalid_argument);
  CHECK_THROWS_AS(RewardScale(std::make_unique<CountEnv>(), NAN), std::invalid_argument);
}

TEST_CASE("running stats: Welford and parallel merge match a direct computation") {
  Rng rng(10);
  std::vector<std::vector<float>> samples(500, std::vector<float>(3));
  for (auto& s : samples) {
    s[0] = static_cast<float>(rng.normal() * 3.0 + 100.0);
    s[1] = static_cast<float>(rng.uniform(-1.0, 1.0));
    s[2] = 7.f;
  }
  RunningStats all(3), first(3), second(3);
  for (size_t i = 0; i < samples.size(); ++i) {
    all.add(samples[i]);
    (i < 137 ? first : second).add(samples[i]);
  }
  for (size_t d = 0; d < 3; ++d) {
    double mean = 0.0, var = 0.0;
    for (const auto& s : samples) mean += s[d];
    mean /= samples.size();
    for (const auto& s : samples) var += (s[d] - mean) * (s[d] - mean);
    var /= samples.size();
    CHECK(all.mean(d) == doctest::Approx(mean).epsilon(1e-12));
    CHECK(all.variance(d) == doctest::Approx(var).epsilon(1e-9));
  }
  CHECK(all.variance(2) == 0.0);
  first.merge(second);
  CHECK(first.count() == 500.0);
  for (size_t d = 0; d < 3; ++d) {
    CHECK(first.mean(d) == doctest::Approx(all.mean(d)).epsilon(1e-12));
    CHECK(first.variance(d) == doctest::Approx(all.variance(d)).epsilon(1e-9));
  }
  RunningStats empty(3);
  first.merge(empty);
  CHECK(first.count() == 500.0);
  CHECK_THROWS_AS(first.merge(RunningStats(2)), std::invalid_argument);
  const std::vector<float> bad = {1.f, NAN, 2.f};
  CHECK_THROWS_AS(all.add(bad), std::invalid_argument);
  CHECK_THROWS_AS(all.add(std::vector<float>{1.f}), std::invalid_argument);
  CHECK(all.count() == 500.0);
}

TEST_CASE("running stats: save/load round trip and corrupt input") {
  RunningStats stats(4);
  Rng rng(2);
  for (int i = 0; i < 20; ++i) {
    std::vector<float> s(4);
    for (auto& v : s) v = static_cast<float>(rng.normal());
    stats.add(s);
  }
  const auto bytes = stats.save();
  CHECK(RunningStats::load(bytes) == stats);
  auto truncated = bytes;
  truncated.pop_back();
  CHECK_THROWS_AS(RunningStats::load(truncated), std::invalid_argument);
  CHECK_THROWS_AS(RunningStats::load(std::vector<uint8_t>(5, 0)), std::invalid_argument);
  auto bad_magic = bytes;
  bad_magic[0] = 'X';
  CHECK_THROWS_AS(RunningStats::load(bad_magic), std::invalid_argument);
  auto nan_mean = bytes;
  const double nan = std::nan("");
  std::memcpy(nan_mean.data() + 24, &nan, sizeof nan);  // first mean element
  try {
    RunningStats::load(nan_mean);
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("mean of element 0") != std::string::npos);
  }
  auto huge_dim = bytes;
  const uint64_t dim = uint64_t{1} << 60;
  std::memcpy(huge_dim.data() + 8, &dim, sizeof dim);
  CHECK_THROWS_AS(RunningStats::load(huge_dim), std::invalid_argument);
}

TEST_CASE("wrappers: observation normalization uses running statistics") {
  auto stats = std::make_shared<SharedRunningStats>(2);
  NormalizeObservation env(std::make_unique<CountEnv>(100), stats, 10.0, 1e-8);
  const Space& space = env.spec().observation_space;
  CHECK(space.dtype == DType::kF32);
  CHECK(space.low[0] == -10.f);
  CHECK(space.high[1] == 10.f);
  auto obs = obs_buffer(env);
  env.reset(4, obs);
  CHECK(floats(obs) == std::vector<float>{0.f, 0.f});  // One sample: x - mean = 0.
  std::vector<double> seen_t = {0.0};
  for (int t = 1; t <= 6; ++t) {
    env.step(kLeft, obs);
    seen_t.push_back(t);
    double mean = 0.0, var = 0.0;
    for (double x : seen_t) mean += x;
    mean /= seen_t.size();
    for (double x : seen_t) var += (x - mean) * (x - mean);
    var /= seen_t.size();
    CHECK(floats(obs)[0] == doctest::Approx((t - mean) / std::sqrt(var + 1e-8)));
    CHECK(floats(obs)[1] == 0.f);  // Constant within the episode.
  }
  CHECK(stats->snapshot().count() == 7.0);

  SUBCASE("frozen copies share the statistics without changing them") {
    NormalizeObservation eval(std::make_unique<CountEnv>(100), stats, 10.0, 1e-8, true);
    auto eval_obs = obs_buffer(eval);
    eval.reset(4, eval_obs);
    eval.step(kLeft, eval_obs);
    CHECK(stats->snapshot().count() == 7.0);
    // t = 1 against the mean of 0..6 (3) and variance 4.
    CHECK(floats(eval_obs)[0] == doctest::Approx((1.0 - 3.0) / 2.0));
  }
  SUBCASE("saved statistics restore identical outputs") {
    const auto saved = stats->save();
    auto restored = std::make_shared<SharedRunningStats>(2);
    restored->load(saved);
    NormalizeObservation a(std::make_unique<CountEnv>(100), stats, 10.0, 1e-8, true);
    NormalizeObservation b(std::make_unique<CountEnv>(100), restored, 10.0, 1e-8, true);
    auto oa = obs_buffer(a), ob = obs_buffer(b);
    a.reset(9, oa);
    b.reset(9, ob);
    for (int t = 0; t < 5; ++t) {
      a.step(kLeft, oa);
      b.step(kLeft, ob);
      REQUIRE(oa == ob);
    }
    CHECK_THROWS_AS(SharedRunningStats(3).load(saved), std::invalid_argument);
  }
  SUBCASE("outputs are clipped") {
    NormalizeObservation tight(std::make_unique<CountEnv>(100), stats, 0.5, 1e-8, true);
    auto tight_obs = obs_buffer(tight);
    tight.reset(4, tight_obs);
    for (int t = 0; t < 20; ++t) tight.step(kLeft, tight_obs);
    CHECK(floats(tight_obs)[0] == 0.5f);
  }
  CHECK_THROWS_AS(
      NormalizeObservation(std::make_unique<CountEnv>(), std::make_shared<SharedRunningStats>(3)),
      std::invalid_argument);
}

TEST_CASE("wrappers: normalization converts u8 observations to f32") {
  NormalizeObservation env(std::make_unique<ByteEnv>(), nullptr, 5.0, 1e-8);
  CHECK(env.spec().observation_space.dtype == DType::kF32);
  CHECK(env.spec().observation_space.shape == std::vector<int64_t>{1, 2});
  auto obs = obs_buffer(env);
  CHECK(obs.size() == 8);
  env.reset(0, obs);
  env.step(kLeft, obs);
  // Samples {0, 1} and {200, 201}: mean 0.5 / 200.5, variance 0.25 -> +1 standard deviation.
  CHECK(floats(obs)[0] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(floats(obs)[1] == doctest::Approx(1.0).epsilon(1e-6));
  const RunningStats snapshot = env.stats()->snapshot();
  CHECK(snapshot.mean(1) == doctest::Approx(200.5));
}

TEST_CASE("wrappers: normalization statistics are shared safely by a threaded vector env") {
  const int n = 6, steps = 200;
  auto run = [&](VectorMode mode) {
    WrapperContext context;
    VectorEnv vec(
        [&] {
          return apply_wrapper(EnvRegistry::global().make("classic/cartpole-v1"),
                               "normalize_observation", {}, context);
        },
        n, 3, mode, 2);
    vec.reset();
    std::vector<int64_t> actions(n);
    Rng rng(8);
    int64_t episodes = 0;
    for (int t = 0; t < steps; ++t) {
      for (auto& a : actions) a = rng.integer(0, 1);
      vec.step(actions);
      episodes += static_cast<int64_t>(vec.finished_episodes().size());
    }
    return std::pair{context.observation_stats->snapshot(), episodes};
  };
  const auto [sync_stats, sync_episodes] = run(VectorMode::kSync);
  const auto [thread_stats, thread_episodes] = run(VectorMode::kThreads);
  // Every reset and step observation of every copy was counted exactly once.
  CHECK(sync_stats.count() == static_cast<double>(n + n * steps + sync_episodes));
  CHECK(thread_stats.count() == sync_stats.count());
  for (size_t d = 0; d < 4; ++d) {
    CHECK(thread_stats.mean(d) == doctest::Approx(sync_stats.mean(d)).epsilon(1e-3));
    CHECK(thread_stats.variance(d) == doctest::Approx(sync_stats.variance(d)).epsilon(1e-3));
  }
}

TEST_CASE("wrappers: episode statistics record returns and lengths") {
  EpisodeStatistics env(std::make_unique<CountEnv>(100, 3), 2);
  auto obs = obs_buffer(env);
  env.reset(0, obs);
  CHECK(env.recent().empty());
  CHECK(env.mean_return() == 0.0);
  for (int episode = 0; episode < 3; ++episode) {
    for (int t = 0; t < 3; ++t) env.step(kLeft, obs);
    env.reset(obs);
  }
  CHECK(env.total_episodes() == 3);
  REQUIRE(env.recent().size() == 2);              // Window of 2.
  CHECK(env.recent()[0].episode_return == 12.0);  // 2 + 4 + 6
  CHECK(env.recent()[0].length == 3);
  CHECK(env.mean_return() == 12.0);
  // An episode cut short by reset is not recorded; a truncated one is.
  env.step(kLeft, obs);
  env.reset(obs);
  CHECK(env.total_episodes() == 3);
  auto limited = apply_wrapper(apply_wrapper(std::make_unique<CountEnv>(100), "time_limit",
                                             {{"max_episode_steps", int64_t{2}}}),
                               "episode_statistics", {{"window", int64_t{5}}});
  limited->reset(0, obs);
  limited->step(kLeft, obs);
  CHECK(limited->step(kLeft, obs).truncated);
  auto* stats = find_wrapper<EpisodeStatistics>(*limited);
  REQUIRE(stats);
  REQUIRE(stats->recent().size() == 1);
  CHECK(stats->recent()[0].episode_return == 6.0);
  CHECK(stats->recent()[0].length == 2);
}

TEST_CASE("wrappers by name: catalog, errors, shared context") {
  const auto& catalog = wrapper_catalog();
  CHECK(catalog.size() == 6);
  for (const WrapperInfo& info : catalog) {
    std::map<std::string, ParamValue> params;
    if (info.name == "time_limit") params["max_episode_steps"] = int64_t{10};
    auto env = apply_wrapper(std::make_unique<CountEnv>(), info.name, params);
    REQUIRE(env);
    auto obs = obs_buffer(*env);
    env->reset(1, obs);
    env->step(kLeft, obs);
    CHECK(!info.description.empty());
  }
  try {
    apply_wrapper(std::make_unique<CountEnv>(), "frame_stak", {});
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK(message.find("frame_stak") != std::string::npos);
    CHECK(message.find("frame_stack") != std::string::npos);
    CHECK(message.find("normalize_observation") != std::string::npos);
  }
  try {
    apply_wrapper(std::make_unique<CountEnv>(), "frame_stack", {{"n", int64_t{4}}});
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("valid parameters: k") != std::string::npos);
  }
  CHECK_THROWS_AS(apply_wrapper(std::make_unique<CountEnv>(), "time_limit", {}),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      apply_wrapper(std::make_unique<CountEnv>(), "frame_stack", {{"k", std::string("four")}}),
      std::invalid_argument);
  CHECK_THROWS_AS(apply_wrapper(nullptr, "reward_scale", {}), std::invalid_argument);

  WrapperContext context;
  auto a = apply_wrapper(std::make_unique<CountEnv>(), "normalize_observation", {}, context);
  auto b = apply_wrapper(std::make_unique<CountEnv>(), "normalize_observation", {{"frozen", true}},
                         context);
  REQUIRE(context.observation_stats);
  CHECK(find_wrapper<NormalizeObservation>(*a)->stats() == context.observation_stats);
  CHECK(find_wrapper<NormalizeObservation>(*b)->stats() == context.observation_stats);
  CHECK(find_wrapper<NormalizeObservation>(*b)->frozen());
  auto obs = obs_buffer(*a);
  a->reset(0, obs);
  b->reset(0, obs);
  CHECK(context.observation_stats->snapshot().count() == 1.0);
}

}  // namespace
}  // namespace rl
