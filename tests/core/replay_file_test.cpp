#include "core/replay_file.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/crc32.h"
#include "core/registry.h"
#include "core/wrappers.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the build's temp area, removed at scope exit.
using test::TempDir;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Plays one CartPole episode with a seeded random policy, recording it.
Replay record_cartpole(uint64_t seed, int64_t checksum_interval = 1, int64_t max_steps = 500) {
  const std::map<std::string, ParamValue> params{{"max_episode_steps", max_steps}};
  auto env = EnvRegistry::global().make("classic/cartpole-v1", params);
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  ReplayRecorder recorder({params, "random policy", "no checkpoint", checksum_interval});
  env->reset(seed, obs);
  recorder.begin(*env, seed, obs);
  Rng policy(seed + 99);
  StepResult r;
  do {
    const Action a = Action::discrete(static_cast<int64_t>(policy.below(2)));
    r = env->step(a, obs);
    recorder.record(a, r, obs);
  } while (!r.done());
  return recorder.replay();
}

// Expects `fn` to throw a ReplayError of `kind` whose message names `path` and contains `words`.
template <typename Fn>
void expect_replay_error(Fn fn, ReplayErrorKind kind, const std::string& path,
                         const std::string& words) {
  try {
    fn();
    FAIL("expected a ReplayError (", replay_error_kind_name(kind), ")");
  } catch (const ReplayError& e) {
    INFO("message: ", e.what());
    CHECK(e.kind() == kind);
    CHECK(e.path() == path);
    const std::string message = e.what();
    CHECK(message.rfind(path + ": ", 0) == 0);
    CHECK(message.find(words) != std::string::npos);
  }
}

// Rewrites the header's body CRC so that a deliberately inconsistent body passes the checksum.
void fix_body_crc(std::vector<uint8_t>& bytes) {
  const uint32_t crc = crc32(std::span<const uint8_t>(bytes).subspan(24));
  std::memcpy(bytes.data() + 20, &crc, 4);
}

TEST_CASE("crc32 matches the standard check value") {
  const std::string text = "123456789";
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  CHECK(crc32(bytes) == 0xCBF43926u);
  CHECK(crc32({}) == 0u);
  CHECK(crc32(bytes.subspan(4), crc32(bytes.first(4))) == 0xCBF43926u);
}

TEST_CASE("a recorded episode survives a write/read round trip and verifies") {
  TempDir dir;
  const Replay original = record_cartpole(7);
  REQUIRE(original.steps() > 5);
  CHECK(original.end == EpisodeEnd::kTerminated);
  CHECK(original.env_id == "classic/cartpole-v1");
  CHECK(original.seed == 7);
  CHECK(original.rlcade_version == RLCADE_VERSION);
  CHECK(original.checksums.size() == static_cast<size_t>(original.steps() + 1));
  CHECK(original.total_return() == doctest::Approx(static_cast<double>(original.steps())));

  const std::string path = dir.file("nested/dir/episode.rlr");
  write_replay(original, path);
  const Replay loaded = read_replay(path);
  CHECK(loaded == original);
  CHECK(loaded.agent_info == "random policy");
  CHECK(loaded.checkpoint_info == "no checkpoint");
  CHECK(std::get<int64_t>(loaded.env_params.at("max_episode_steps")) == 500);
  // Only the final file remains: the temporary file was renamed away.
  CHECK(std::distance(fs::directory_iterator(dir.path / "nested/dir"), fs::directory_iterator{}) ==
        1);

  const ReplayVerification report = verify_replay(path);
  CHECK(report.ok());
  CHECK(report.steps_simulated == original.steps());
  CHECK(report.checksums_matched == original.steps() + 1);
  CHECK(report.summary().rfind("ok: ", 0) == 0);
}

TEST_CASE("checksums are taken every K steps and at the last step") {
  const Replay replay = record_cartpole(11, 4);
  REQUIRE(replay.steps() > 9);
  std::vector<int64_t> expected;
  for (int64_t s = 0; s <= replay.steps(); s += 4) expected.push_back(s);
  if (expected.back() != replay.steps()) expected.push_back(replay.steps());
  std::vector<int64_t> steps;
  for (const auto& c : replay.checksums) steps.push_back(c.step);
  CHECK(steps == expected);
  CHECK(verify_replay(replay).ok());
}

TEST_CASE("a truncated episode records and verifies its truncation") {
  Replay replay = record_cartpole(3, 1, 6);
  REQUIRE(replay.steps() == 6);
  CHECK(replay.end == EpisodeEnd::kTruncated);
  CHECK(replay.max_episode_steps == 6);
  CHECK(verify_replay(replay).ok());
  // Claiming the opposite ending is a divergence at the last step.
  replay.end =
      replay.end == EpisodeEnd::kTruncated ? EpisodeEnd::kTerminated : EpisodeEnd::kTruncated;
  const ReplayVerification report = verify_replay(replay);
  REQUIRE(!report.ok());
  CHECK(report.divergence->step == replay.steps());
}

TEST_CASE("verification finds the first step where re-simulation diverges") {
  const Replay original = record_cartpole(21);
  REQUIRE(original.steps() > 12);

  SUBCASE("a changed action shows in the next observation") {
    Replay changed = original;
    changed.discrete_actions[10] = 1 - changed.discrete_actions[10];
    const ReplayVerification report = verify_replay(changed);
    REQUIRE(!report.ok());
    CHECK(report.divergence->step == 11);
    CHECK(report.divergence->what.find("observation checksum") != std::string::npos);
    CHECK(report.summary().rfind("diverged at step 11: ", 0) == 0);
  }
  SUBCASE("a changed action is found at the next checksum when checksums are sparse") {
    Replay sparse = record_cartpole(21, 5);
    sparse.discrete_actions[10] = 1 - sparse.discrete_actions[10];
    const ReplayVerification report = verify_replay(sparse);
    REQUIRE(!report.ok());
    CHECK(report.divergence->step == 15);
  }
  SUBCASE("a changed reward") {
    Replay changed = original;
    changed.rewards[4] = 0.5f;
    const ReplayVerification report = verify_replay(changed);
    REQUIRE(!report.ok());
    CHECK(report.divergence->step == 5);
    CHECK(report.divergence->what.find("reward") != std::string::npos);
  }
  SUBCASE("a different seed diverges at reset") {
    Replay changed = original;
    changed.seed = 22;
    const ReplayVerification report = verify_replay(changed);
    REQUIRE(!report.ok());
    CHECK(report.divergence->step == 0);
  }
  SUBCASE("a recording that continues after the env ended") {
    Replay longer = original;
    longer.discrete_actions.push_back(0);
    longer.rewards.push_back(1.f);
    longer.end = EpisodeEnd::kRunning;
    longer.checksums.pop_back();
    const ReplayVerification report = verify_replay(longer);
    REQUIRE(!report.ok());
    CHECK(report.divergence->step == original.steps());
    CHECK(report.divergence->what.find("ended") != std::string::npos);
  }
  SUBCASE("an action space that no longer matches") {
    Replay changed = original;
    changed.action_size = 3;
    const ReplayVerification report = verify_replay(changed);
    REQUIRE(!report.ok());
    CHECK(report.divergence->step == 0);
    CHECK(report.divergence->what.find("action space") != std::string::npos);
  }
}

TEST_CASE("the simulator plays step by step and restarts") {
  const Replay replay = record_cartpole(5);
  ReplaySimulator sim(replay);
  CHECK(sim.step() == 0);
  CHECK(sim.checksums_matched() == 1);
  auto env = EnvRegistry::global().make("classic/cartpole-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(5, obs);
  CHECK(std::equal(obs.begin(), obs.end(), sim.observation().begin()));
  sim.advance();
  sim.advance();
  CHECK(sim.step() == 2);
  CHECK(sim.env().episode_steps() == 2);
  sim.restart();
  CHECK(sim.step() == 0);
  while (!sim.finished()) sim.advance();
  CHECK(sim.step() == replay.steps());
  CHECK(!sim.divergence());
  CHECK(sim.env().episode_over());
  CHECK_THROWS_AS(sim.advance(), std::logic_error);
}

// A small env with a continuous action space and seeded noise, in a private registry.
class DriftEnv final : public Env {
 public:
  DriftEnv()
      : Env(EnvSpec{"test/drift-v0",
                    "drifts",
                    Space::box({2}, -100.f, 100.f, DType::kF32),
                    Space::box({2}, -1.f, 1.f, DType::kF32),
                    -10.f,
                    10.f,
                    30,
                    {},
                    {}}) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    x_ = static_cast<float>(rng().uniform(-1, 1));
    y_ = 0.f;
    write(obs);
  }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    x_ += a.values[0] + static_cast<float>(rng().uniform(-0.01, 0.01));
    y_ += a.values[1];
    write(obs);
    return {a.values[0] * a.values[1], std::abs(x_) > 50.f, false};
  }
  void do_render(Image& out) const override { out.resize(4, 4); }

 private:
  void write(ObsBuffer obs) const {
    as_f32(obs)[0] = x_;
    as_f32(obs)[1] = y_;
  }
  float x_ = 0.f, y_ = 0.f;
};

TEST_CASE("continuous actions round trip and verify") {
  EnvRegistry registry;
  registry.add(
      {"test/drift-v0", "drifts", {}, [](const Params&) { return std::make_unique<DriftEnv>(); }});
  auto env = registry.make("test/drift-v0");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  ReplayRecorder recorder({{}, "scripted", "", 3});
  env->reset(77, obs);
  recorder.begin(*env, 77, obs);
  StepResult r;
  for (int i = 0; !r.done(); ++i) {
    const float values[2] = {0.1f * (i % 5), -0.25f};
    r = env->step(Action::continuous(values), obs);
    recorder.record(Action::continuous(values), r, obs);
  }
  const Replay& replay = recorder.replay();
  CHECK(replay.continuous);
  CHECK(replay.action_size == 2);
  CHECK(replay.steps() == 30);
  CHECK(replay.end == EpisodeEnd::kTruncated);
  CHECK(replay.continuous_actions.size() == 60);

  TempDir dir;
  write_replay(replay, dir.file("drift.rlr"));
  CHECK_THROWS_AS(read_replay(dir.file("drift.rlr")), ReplayError);  // Not in the global one.
  const Replay loaded = read_replay(dir.file("drift.rlr"), registry);
  CHECK(loaded == replay);
  CHECK(loaded.action(3).values[0] == doctest::Approx(0.3f));
  CHECK(verify_replay(loaded, registry).ok());

  Replay changed = loaded;
  changed.continuous_actions[2 * 7 + 1] = 0.5f;  // Step 7, second value.
  const ReplayVerification report = verify_replay(changed, registry);
  REQUIRE(!report.ok());
  CHECK(report.divergence->step == 8);  // The reward of step 8 changes first.
}

TEST_CASE("a shadow recorder records the bare env behind an agent's wrappers") {
  auto wrapped = std::make_unique<FrameStack>(
      std::make_unique<TimeLimit>(EnvRegistry::global().make("classic/cartpole-v1"), 15), 4);
  std::vector<uint8_t> obs(wrapped->spec().observation_space.bytes());
  ShadowReplayRecorder recorder("classic/cartpole-v1", {{}, "agent", "ckpt", 1},
                                wrapped->spec().max_episode_steps);
  CHECK_THROWS_AS(recorder.record(Action::discrete(0)), std::logic_error);
  wrapped->reset(31, obs);
  recorder.begin(31);
  Rng policy(5);
  StepResult played;
  do {
    const Action a = Action::discrete(static_cast<int64_t>(policy.below(2)));
    played = wrapped->step(a, obs);
    const StepResult shadow = recorder.record(a);
    CHECK(shadow.reward == played.reward);
    CHECK(shadow.done() == played.done());
  } while (!played.done());
  CHECK(recorder.episode_over());
  const Replay& replay = recorder.replay();
  CHECK(replay.steps() == wrapped->episode_steps());
  CHECK(replay.max_episode_steps == 15);
  CHECK(replay.checkpoint_info == "ckpt");
  CHECK(verify_replay(replay).ok());
  CHECK_THROWS_AS(ShadowReplayRecorder("classic/nope-v1", {}), std::invalid_argument);
}

TEST_CASE("recorder misuse is rejected") {
  CHECK_THROWS_AS(ReplayRecorder({{}, "", "", 0}), std::invalid_argument);
  ReplayRecorder recorder({});
  CHECK_THROWS_AS(recorder.record(Action::discrete(0), StepResult{}, {}), std::logic_error);
  CHECK_THROWS_AS(recorder.save("/tmp/never.rlr"), std::logic_error);
  auto env = EnvRegistry::global().make("classic/cartpole-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(1, obs);
  recorder.begin(*env, 1, obs);
  StepResult done;
  done.terminated = true;
  recorder.record(Action::discrete(0), done, obs);
  CHECK_THROWS_AS(recorder.record(Action::discrete(0), StepResult{}, obs), std::logic_error);
}

TEST_CASE("damaged files give their documented errors, naming the file") {
  TempDir dir;
  const Replay replay = record_cartpole(9);
  const std::string good = dir.file("good.rlr");
  write_replay(replay, good);
  const std::vector<uint8_t> bytes = read_bytes(good);
  const std::string path = dir.file("bad.rlr");
  auto load = [&] { read_replay(path); };

  SUBCASE("missing file") { expect_replay_error(load, ReplayErrorKind::kIo, path, "cannot open"); }
  SUBCASE("empty file") {
    write_bytes(path, {});
    expect_replay_error(load, ReplayErrorKind::kTruncated, path, "truncated");
  }
  SUBCASE("cut inside the header") {
    write_bytes(path, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 13));
    expect_replay_error(load, ReplayErrorKind::kTruncated, path, "header");
  }
  SUBCASE("cut inside the body") {
    write_bytes(path, std::vector<uint8_t>(bytes.begin(), bytes.end() - 10));
    expect_replay_error(load, ReplayErrorKind::kTruncated, path, "truncated");
  }
  SUBCASE("wrong magic") {
    std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    png.insert(png.end(), bytes.begin() + 8, bytes.end());
    write_bytes(path, png);
    expect_replay_error(load, ReplayErrorKind::kBadMagic, path, "not an rlcade replay");
  }
  SUBCASE("wrong magic in a tiny file") {
    write_bytes(path, {'h', 'i'});
    expect_replay_error(load, ReplayErrorKind::kBadMagic, path, "not an rlcade replay");
  }
  SUBCASE("unsupported version") {
    std::vector<uint8_t> v2 = bytes;
    v2[8] = 2;
    write_bytes(path, v2);
    expect_replay_error(load, ReplayErrorKind::kBadVersion, path,
                        "unsupported format version 2 (this build reads version 1)");
  }
  SUBCASE("a flipped bit in the body") {
    std::vector<uint8_t> flipped = bytes;
    flipped[bytes.size() / 2] ^= 0x04;
    write_bytes(path, flipped);
    expect_replay_error(load, ReplayErrorKind::kCorrupted, path, "body checksum");
  }
  SUBCASE("trailing garbage") {
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    write_bytes(path, longer);
    expect_replay_error(load, ReplayErrorKind::kCorrupted, path, "1 unexpected bytes");
  }
  SUBCASE("inconsistent body with a valid checksum") {
    Replay bad = replay;
    bad.discrete_actions[0] = 5;  // Outside Discrete(2).
    std::vector<uint8_t> encoded = encode_replay(bad);
    write_bytes(path, encoded);
    expect_replay_error(load, ReplayErrorKind::kMalformed, path, "outside Discrete(2)");
  }
  SUBCASE("a body whose lengths lie, with a valid checksum") {
    std::vector<uint8_t> lying = bytes;
    const uint32_t huge = 0x7fffffff;
    std::memcpy(lying.data() + 24, &huge, 4);  // Length of the env id string.
    fix_body_crc(lying);
    write_bytes(path, lying);
    expect_replay_error(load, ReplayErrorKind::kMalformed, path, "env id");
  }
  SUBCASE("unknown env") {
    Replay other = replay;
    other.env_id = "classic/unicycle-v3";
    write_replay(other, path);
    expect_replay_error(load, ReplayErrorKind::kUnknownEnv, path, "classic/cartpole-v1");
  }
  SUBCASE("parameters the env rejects") {
    Replay other = replay;
    other.env_params["gravity"] = 3.0;
    write_replay(other, path);
    expect_replay_error(load, ReplayErrorKind::kBadParams, path, "gravity");
  }
}

TEST_CASE("random damage to a body with a recomputed checksum never crashes the reader") {
  const std::vector<uint8_t> good = encode_replay(record_cartpole(13));
  Rng rng(2024);
  int rejected = 0, accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bytes = good;
    const int edits = 1 + static_cast<int>(rng.below(4));
    for (int e = 0; e < edits; ++e)
      bytes[24 + rng.below(bytes.size() - 24)] = static_cast<uint8_t>(rng.below(256));
    if (rng.bernoulli(0.2)) bytes.resize(24 + rng.below(bytes.size() - 24));
    const uint64_t body_size = bytes.size() - 24;
    std::memcpy(bytes.data() + 12, &body_size, 8);
    fix_body_crc(bytes);
    try {
      const Replay replay = decode_replay(bytes, "fuzz.rlr");
      ++accepted;
      verify_replay(replay);  // Must report, not throw, whatever the contents.
    } catch (const ReplayError& e) {
      ++rejected;
      CHECK(e.kind() == ReplayErrorKind::kMalformed);
    }
  }
  CHECK(rejected > 0);
  CHECK(accepted > 0);
}

TEST_CASE("writing into an impossible location fails with an io error") {
  TempDir dir;
  write_bytes(dir.file("plain_file"), {1, 2, 3});
  const std::string path = dir.file("plain_file/replay.rlr");
  expect_replay_error([&] { write_replay(record_cartpole(1), path); }, ReplayErrorKind::kIo, path,
                      "cannot");
}

// Golden replays: any change to env dynamics makes one of these diverge.
TEST_CASE("every committed golden replay re-simulates exactly") {
  const fs::path dir = rl::test::source_dir() / "replays";
  REQUIRE(fs::is_directory(dir));
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != kReplayExtension) continue;
    ++files;
    INFO("golden replay ", entry.path().string());
    const Replay replay = read_replay(entry.path().string());
    const ReplayVerification report = verify_replay(replay);
    INFO(report.summary());
    CHECK(report.ok());
    CHECK(report.steps_simulated == replay.steps());
    CHECK(replay.steps() > 0);
  }
  CHECK(files > 0);
}

}  // namespace
}  // namespace rl
