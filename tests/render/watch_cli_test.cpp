// The rlwatch command line, run in-process (headless paths; the window is covered by
// viewer_test.cpp).
#include "render/watch_cli.h"

#include <doctest/doctest.h>
#include <gif_lib.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "core/registry.h"
#include "core/replay_file.h"
#include "test_support.h"

namespace rl::render {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code;
  std::string out, err;
};

Result run(const std::vector<std::string>& argv, const AgentLoader& loader = {}) {
  std::ostringstream out, err;
  int code;
  try {
    code = run_watch(parse_watch_args(argv), loader, out, err);
  } catch (const std::invalid_argument& e) {
    err << e.what();
    code = -1;  // Rejected by the parser (the main turns this into kWatchUsage).
  }
  return {code, out.str(), err.str()};
}

using test::TempDir;

const std::string kGolden = (rl::test::source_dir() / "replays/classic-cartpole-v1.rlr").string();

TEST_CASE("argument parsing") {
  const WatchArgs play = parse_watch_args({"--play", "classic/cartpole-v1", "--size", "320x200",
                                           "--fps", "12.5", "--seed", "7", "--param", "a=1"});
  CHECK(play.source == WatchArgs::Source::kPlay);
  CHECK(play.input == "classic/cartpole-v1");
  CHECK(play.width == 320);
  CHECK(play.height == 200);
  CHECK(play.fps == 12.5);
  CHECK(play.seed == 7);
  CHECK(play.params == std::vector<std::string>{"a=1"});
  CHECK(parse_watch_args({kGolden}).source == WatchArgs::Source::kReplay);
  CHECK(parse_watch_args({fs::temp_directory_path().string()}).source == WatchArgs::Source::kRun);

  auto error_of = [](const std::vector<std::string>& argv) {
    try {
      parse_watch_args(argv);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of({"--size", "300"}).find("WIDTHxHEIGHT") != std::string::npos);
  CHECK(error_of({"--size", "0x10"}).find("outside") != std::string::npos);
  CHECK(error_of({"--fps", "fast"}).find("--fps expects a number in (0, 10000], got 'fast'") !=
        std::string::npos);
  CHECK(error_of({"--fps", "-3"}).find("--fps") != std::string::npos);
  CHECK(error_of({"--seed", "-1"}).find("--seed") != std::string::npos);
  CHECK(error_of({"--record"}).find("--record needs a value") != std::string::npos);
  CHECK(error_of({"--frobnicate"}).find("unknown option '--frobnicate'") != std::string::npos);
  CHECK(error_of({"extra.rlr", "more.rlr"}).find("one thing") != std::string::npos);
  CHECK(parse_watch_args({"--help"}).help);
  CHECK(watch_usage().rfind("usage: rlwatch REPLAY.rlr", 0) == 0);
  CHECK(error_of({"--play", "a/b-v0", "--env", "c/d-v0"}).find("one thing") != std::string::npos);
  CHECK(error_of({"--verify", kGolden, kGolden}).find("--verify") != std::string::npos);
}

TEST_CASE("--verify: 0 when the replay re-simulates, 1 on divergence or an unreadable file") {
  TempDir dir;
  Result ok = run({"--verify", kGolden});
  CHECK(ok.code == kWatchOk);
  CHECK(ok.out.find("ok: ") != std::string::npos);

  Replay tampered = read_replay(kGolden);
  tampered.discrete_actions[3] ^= 1;
  write_replay(tampered, dir.file("tampered.rlr"));
  Result diverged = run({"--verify", dir.file("tampered.rlr")});
  CHECK(diverged.code == kWatchDiverged);
  CHECK(diverged.err.find("diverged at step 4") != std::string::npos);

  Result missing = run({"--verify", dir.file("missing.rlr")});
  CHECK(missing.code == kWatchFailed);
  CHECK(missing.err.find(dir.file("missing.rlr") + ": cannot open") != std::string::npos);
}

TEST_CASE("--verify passes on every committed golden replay; every env family has one") {
  std::set<std::string> families_with_replay;
  for (const auto& entry : fs::directory_iterator(rl::test::source_dir() / "replays")) {
    if (entry.path().extension() != kReplayExtension) continue;
    CAPTURE(entry.path().string());
    Result r = run({"--verify", entry.path().string()});
    CHECK(r.code == kWatchOk);
    CHECK(r.out.find(": ok: ") != std::string::npos);
    const std::string id = read_replay(entry.path().string()).env_id;
    families_with_replay.insert(id.substr(0, id.find('/')));
  }
  for (const std::string& id : EnvRegistry::global().ids()) {
    const std::string family = id.substr(0, id.find('/'));
    // remote needs a server on the other end; test/ ids are registered by these tests.
    if (family == "remote" || family == "test") continue;
    CAPTURE(family);
    CHECK(families_with_replay.count(family) == 1);
  }
  CHECK(families_with_replay.count("minatar") == 1);
}

TEST_CASE("--export .mp4 names the missing ffmpeg program") {
  TempDir dir;
  Result r = run({kGolden, "--export", dir.file("x.mp4"), "--ffmpeg", dir.file("no-ffmpeg")});
  CHECK(r.code == kWatchFailed);
  CHECK(r.err.find("'" + dir.file("no-ffmpeg") + "' is not an executable program") !=
        std::string::npos);
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("--export writes a GIF of the replay without a window") {
  TempDir dir;
  const std::string gif_path = dir.file("golden.gif");
  Result r = run({kGolden, "--export", gif_path, "--size", "150x100"});
  REQUIRE(r.code == kWatchOk);
  CHECK(r.out.find("wrote " + gif_path) != std::string::npos);
  int error = 0;
  GifFileType* gif = DGifOpenFileName(gif_path.c_str(), &error);
  REQUIRE(gif);
  REQUIRE(DGifSlurp(gif) == GIF_OK);
  CHECK(gif->ImageCount == read_replay(kGolden).steps() + 1);
  CHECK(gif->SWidth == 150);
  DGifCloseFile(gif, &error);

  // A diverging replay still exports but exits with 1 and says why.
  Replay tampered = read_replay(kGolden);
  tampered.rewards[0] = 2.f;
  write_replay(tampered, dir.file("tampered.rlr"));
  Result diverged = run({dir.file("tampered.rlr"), "--export", dir.file("t.png")});
  CHECK(diverged.code == kWatchDiverged);
  CHECK(diverged.err.find("diverged at step 1") != std::string::npos);
}

TEST_CASE("--headless --record plays and records random-policy episodes") {
  TempDir dir;
  const std::string path = dir.file("random.rlr");
  Result r = run({"--env", "classic/cartpole-v1", "--seed", "11", "--episodes", "2", "--headless",
                  "--record", path, "--param", "max_episode_steps=30"});
  REQUIRE(r.code == kWatchOk);
  CHECK(r.out.find("episode 1: return") != std::string::npos);
  CHECK(r.out.find("episode 2: return") != std::string::npos);
  CHECK(r.out.find("recorded " + dir.file("random-2.rlr")) != std::string::npos);
  const Replay first = read_replay(path);
  CHECK(first.seed == 11);
  CHECK(first.max_episode_steps == 30);
  CHECK(std::get<int64_t>(first.env_params.at("max_episode_steps")) == 30);
  CHECK(first.agent_info == "random policy (seed 11)");
  CHECK(run({"--verify", dir.file("random-2.rlr")}).code == kWatchOk);

  // An int parameter in float notation is the integer it denotes (the rule of rltrain --set).
  Result long_limit = run({"--env", "classic/cartpole-v1", "--headless", "--record",
                           dir.file("long.rlr"), "--param", "max_episode_steps=1e3"});
  REQUIRE(long_limit.code == kWatchOk);
  CHECK(read_replay(dir.file("long.rlr")).max_episode_steps == 1000);
}

TEST_CASE("misuse gets one clear line and exit code 2; failures while running get 1") {
  TempDir dir;
  auto expect = [](const Result& r, const std::string& words) {
    INFO("stderr: ", r.err);
    CHECK(r.code == kWatchUsage);
    CHECK(r.err.find(words) != std::string::npos);
  };
  expect(run({}), "nothing to watch");
  expect(run({"--env", "classic/nope-v1", "--headless"}), "classic/cartpole-v1");
  expect(run({"--env", "classic/cartpole-v1", "--headless", "--param", "max_episode_steps=x"}),
         "max_episode_steps");
  expect(run({"--env", "classic/cartpole-v1", "--headless", "--param", "gravity=3"}),
         "unknown parameter 'gravity'");
  expect(run({"--env", "classic/cartpole-v1", "--headless", "--param", "max_episode_steps=0"}),
         "out of range");
  expect(run({"--play", "classic/cartpole-v1", "--export", dir.file("x.gif")}), "--play");
  expect(run({kGolden, "--record", dir.file("x.rlr")}), "--record");
  expect(run({kGolden, "--export", dir.file("x.webm")}), "unknown export format");
  // What fails while running (an unreadable file, a build without agents) exits 1 instead.
  for (const auto& [failed, words] :
       {std::pair{run({dir.file("nothing.rlr")}), "cannot open"},
        std::pair{run({"--checkpoint", dir.file("model.pt")}), "LibTorch agents"}}) {
    INFO("stderr: ", failed.err);
    CHECK(failed.code == kWatchFailed);
    CHECK(failed.err.find(words) != std::string::npos);
  }
}

TEST_CASE("an agent loader supplies the policy for runs and checkpoints") {
  TempDir dir;
  std::string asked;
  AgentLoader loader = [&](const std::string& path, bool is_checkpoint) {
    asked = path + (is_checkpoint ? " (checkpoint)" : " (run)");
    LoadedAgent agent;
    agent.env_id = "classic/cartpole-v1";
    agent.env_params = {{"max_episode_steps", int64_t{20}}};
    agent.agent_info = "always-right";
    agent.checkpoint_info = path;
    agent.policy = [](std::span<const uint8_t>, const Env&) {
      return PolicyDecision{1, {}, {0.f, 1.f}, "Q", {}};
    };
    return agent;
  };
  const std::string record = dir.file("agent.rlr");
  Result r = run({dir.path.string(), "--headless", "--record", record}, loader);
  REQUIRE(r.code == kWatchOk);
  CHECK(asked == dir.path.string() + " (run)");
  const Replay replay = read_replay(record);
  CHECK(replay.agent_info == "always-right");
  CHECK(replay.checkpoint_info == dir.path.string());
  for (int32_t a : replay.discrete_actions) CHECK(a == 1);
  Result from_checkpoint = run({"--checkpoint", dir.file("c.pt"), "--headless"}, loader);
  CHECK(from_checkpoint.code == kWatchOk);
  CHECK(asked == dir.file("c.pt") + " (checkpoint)");
}

}  // namespace
}  // namespace rl::render
