// Watch sessions and headless export (no window needed).
#include <doctest/doctest.h>
#include <gif_lib.h>
#include <unistd.h>

#include <SFML/Graphics/Image.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/registry.h"
#include "render/export.h"
#include "render/layout.h"
#include "render/watch_session.h"
#include "test_support.h"

namespace rl::render {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

Replay cartpole_replay(uint64_t seed) {
  auto env = EnvRegistry::global().make("classic/cartpole-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  ReplayRecorder recorder({{}, "random", "", 1});
  env->reset(seed, obs);
  recorder.begin(*env, seed, obs);
  Rng policy(seed);
  std::vector<float> values;
  StepResult r;
  do {
    const Action a = Action::discrete(static_cast<int64_t>(policy.below(2)));
    r = env->step(a, obs);
    recorder.record(a, r, obs);
  } while (!r.done());
  return recorder.replay();
}

// Decoded GIF frame `i` as an RGB image.
Image gif_frame(const GifFileType* gif, int i) {
  const SavedImage& saved = gif->SavedImages[i];
  const ColorMapObject* map = saved.ImageDesc.ColorMap ? saved.ImageDesc.ColorMap : gif->SColorMap;
  REQUIRE(map != nullptr);
  Image out(saved.ImageDesc.Width, saved.ImageDesc.Height);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      const GifColorType c = map->Colors[saved.RasterBits[y * out.width + x]];
      out.set(x, y, {c.Red, c.Green, c.Blue});
    }
  return out;
}

TEST_CASE("frames are fitted crisply, keeping their aspect ratio") {
  CHECK(fit_keep_aspect(600, 400, 300, 300) == Rect{0, 50, 300, 200});
  CHECK(fit_keep_aspect(10, 10, 640, 480) == Rect{80, 0, 480, 480});
  CHECK(fit_keep_aspect(0, 10, 640, 480) == Rect{});
  CHECK(default_frame_area(600, 400) == Rect{0, 0, 600, 400});
  CHECK(default_frame_area(10, 20) == Rect{0, 0, 320, 640});
  Image small(2, 1);
  small.set(1, 0, {255, 0, 0});
  const Image big = fit_frame(small, 40, 40);
  CHECK(big.width == 40);
  CHECK(big.height == 20);
  CHECK(big.at(19, 10) == Color{0, 0, 0});
  CHECK(big.at(20, 10) == Color{255, 0, 0});
}

TEST_CASE("a replay session re-simulates, reports its HUD and restarts") {
  const Replay replay = cartpole_replay(4);
  auto session = make_replay_session(replay, "replay test.rlr");
  CHECK(session->hud().env_id == "classic/cartpole-v1");
  CHECK(session->hud().step == 0);
  CHECK(session->hud().status.find("checksums ok (1)") != std::string::npos);
  CHECK(session->advance());
  CHECK(session->hud().step == 1);
  CHECK(session->hud().last_action == (replay.discrete_actions[0] ? "right" : "left"));
  while (session->advance()) {
  }
  CHECK(session->finished());
  CHECK(session->hud().step == replay.steps());
  CHECK(session->hud().episode_return == doctest::Approx(replay.total_return()));
  CHECK(!session->hud().diverged);
  CHECK(session->hud().status.find("end of replay") != std::string::npos);
  session->restart();
  CHECK(session->hud().step == 0);
  CHECK(!session->finished());

  Replay tampered = replay;
  tampered.discrete_actions[2] ^= 1;
  auto diverging = make_replay_session(tampered, "tampered");
  while (diverging->advance()) {
  }
  CHECK(diverging->hud().diverged);
  REQUIRE(diverging->divergence());
  CHECK(diverging->divergence()->step == 3);
  CHECK(diverging->hud().status.rfind("DIVERGED at step 3", 0) == 0);
}

TEST_CASE("a policy session plays episodes back to back and records each one") {
  TempDir dir;
  LiveOptions options{"classic/cartpole-v1",
                      {{"max_episode_steps", int64_t{40}}},
                      100,
                      "random",
                      RecordingOptions{dir.file("watched.rlr"), "random policy", ""},
                      nullptr};
  int calls = 0;
  PolicySource policy = [&](std::span<const uint8_t> obs, const Env& env) {
    CHECK(obs.size() == env.spec().observation_space.bytes());
    ++calls;
    return PolicyDecision{calls % 2, {}, {0.25f, -1.5f}, std::string("Q"), {}};
  };
  auto session = make_policy_session(options, policy);
  int episodes_finished = 0;
  for (int i = 0; i < 400 && episodes_finished < 2; ++i) {
    REQUIRE(session->advance());
    if (session->episode_over()) ++episodes_finished;
  }
  CHECK(session->hud().episode == 2);
  CHECK(session->hud().action_values == std::vector<float>{0.25f, -1.5f});
  CHECK(session->hud().values_label == "Q");
  REQUIRE(session->recorded_files().size() == 2);
  CHECK(session->recorded_files()[0] == dir.file("watched.rlr"));
  CHECK(session->recorded_files()[1] == dir.file("watched-2.rlr"));
  for (const auto& file : session->recorded_files()) {
    const Replay replay = read_replay(file);
    CHECK(replay.agent_info == "random policy");
    CHECK(verify_replay(replay).ok());
  }
  CHECK(read_replay(dir.file("watched.rlr")).seed == 100);
  CHECK(read_replay(dir.file("watched-2.rlr")).seed == 101);
  // A partly played episode is saved on request.
  session->advance();  // Starts episode 3.
  session->advance();
  session->save_partial();
  REQUIRE(session->recorded_files().size() == 3);
  const Replay partial = read_replay(dir.file("watched-3.rlr"));
  CHECK(partial.end == EpisodeEnd::kRunning);
  CHECK(partial.steps() == 1);
  CHECK(verify_replay(partial).ok());
}

TEST_CASE("a turn-based human session steps only on key presses") {
  auto session = make_human_session({"classic/cartpole-v1", {}, 5, "human", std::nullopt, nullptr});
  REQUIRE(session->human_input());
  CHECK(session->turn_based());  // CartPole has no no-op action.
  CHECK(!session->advance());
  session->human_input()->on_key({Key::kRight, true});
  session->human_input()->on_key({Key::kRight, false});
  CHECK(session->advance());
  CHECK(session->hud().last_action == "right");
  CHECK(session->hud().step == 1);
  CHECK(!session->advance());
}

TEST_CASE("GIF export decodes back to the replay's frames") {
  TempDir dir;
  const Replay replay = cartpole_replay(8);
  auto session = make_replay_session(replay, "gif");
  const std::string path = dir.file("out/episode.gif");
  const ExportReport report = export_episode(*session, {path, 300, 300, 25.0});
  CHECK(report.frames == replay.steps() + 1);
  CHECK(report.frames_written == report.frames);
  CHECK(report.width == 300);
  CHECK(report.height == 200);
  CHECK(!report.divergence);

  int error = 0;
  GifFileType* gif = DGifOpenFileName(path.c_str(), &error);
  REQUIRE(gif != nullptr);
  REQUIRE(DGifSlurp(gif) == GIF_OK);
  CHECK(gif->ImageCount == replay.steps() + 1);
  CHECK(gif->SWidth == 300);
  CHECK(gif->SHeight == 200);
  GraphicsControlBlock control;
  REQUIRE(DGifSavedExtensionToGCB(gif, 0, &control) == GIF_OK);
  CHECK(control.DelayTime == 4);  // 25 fps.

  auto env = EnvRegistry::global().make("classic/cartpole-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(replay.seed, obs);
  Image first;
  env->render(first);
  CHECK(gif_frame(gif, 0) == scale_nearest(first, 300, 200));
  for (int64_t i = 0; i < replay.steps(); ++i) env->step(replay.action(i), obs);
  Image last;
  env->render(last);
  CHECK(gif_frame(gif, gif->ImageCount - 1) == scale_nearest(last, 300, 200));
  DGifCloseFile(gif, &error);
  // Only the GIF is left behind.
  CHECK(std::distance(fs::directory_iterator(dir.path / "out"), fs::directory_iterator{}) == 1);
}

TEST_CASE("GIFs above 50 fps keep every n-th frame") {
  TempDir dir;
  const Replay replay = cartpole_replay(8);
  auto session = make_replay_session(replay, "gif");
  const ExportReport report = export_episode(*session, {dir.file("fast.gif"), 60, 40, 120.0});
  CHECK(report.frames == replay.steps() + 1);
  CHECK(report.frames_written == (report.frames + 2) / 3);
}

TEST_CASE("PNG export writes a frame sheet") {
  TempDir dir;
  const Replay replay = cartpole_replay(8);
  auto session = make_replay_session(replay, "png");
  const std::string path = dir.file("sheet.png");
  ExportOptions options{path, 120, 80};
  options.sheet_tiles = 9;
  const ExportReport report = export_episode(*session, options);
  CHECK(report.frames == replay.steps() + 1);
  CHECK(report.frames_written == 9);
  sf::Image sheet;
  REQUIRE(sheet.loadFromFile(path));
  CHECK(sheet.getSize() == sf::Vector2u(3 * 124 + 4, 3 * 84 + 4));
  // The first tile is the first frame.
  auto env = EnvRegistry::global().make("classic/cartpole-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(replay.seed, obs);
  Image first;
  env->render(first);
  const Image expected = scale_nearest(first, 120, 80);
  int mismatches = 0;
  for (int y = 0; y < 80; ++y)
    for (int x = 0; x < 120; ++x) {
      const sf::Color c = sheet.getPixel(4 + x, 4 + y);
      mismatches += Color{c.r, c.g, c.b} != expected.at(x, y);
    }
  CHECK(mismatches == 0);
}

TEST_CASE("export errors are clear and leave nothing behind") {
  TempDir dir;
  const Replay replay = cartpole_replay(8);
  auto session = make_replay_session(replay, "bad");
  auto message_of = [&](const ExportOptions& options) {
    try {
      export_episode(*session, options);
    } catch (const std::invalid_argument& e) {  // bad export options are usage errors
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message_of({dir.file("x.bmp")}).find("unknown export format '.bmp'") != std::string::npos);
  CHECK(message_of({dir.file("x.gif"), 100, 0}).find("WxH") != std::string::npos);
  CHECK(message_of({dir.file("x.gif"), 0, 0, 0.0}).find("fps") != std::string::npos);
  CHECK(fs::is_empty(dir.path));
}

// Writes an executable shell script; returns its path.
std::string write_script(const std::string& path, const std::string& body) {
  {
    std::ofstream out(path);
    out << "#!/bin/sh\n" << body;
  }
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_CASE("MP4 export pipes every frame, padded to even sizes, to ffmpeg") {
  TempDir tools, out;
  // A stand-in for ffmpeg: keeps its arguments and writes the raw frames it receives to the
  // output file (its last argument).
  const std::string args_file = tools.file("args.txt");
  const std::string fake =
      write_script(tools.file("fake-ffmpeg"), "for last; do :; done\nprintf '%s\\n' \"$@\" > '" +
                                                  args_file + "'\ncat > \"$last\"\n");
  const Replay replay = cartpole_replay(8);
  auto session = make_replay_session(replay, "mp4");
  ExportOptions options{out.file("episode.mp4"), 151, 151, 24.0};
  options.ffmpeg = fake;
  const ExportReport report = export_episode(*session, options);
  CHECK(report.frames == replay.steps() + 1);
  CHECK(report.frames_written == report.frames);
  CHECK(report.width == 152);  // 600x400 fitted into 151x151 is 151x100; odd sides padded.
  CHECK(report.height == 100);
  // Only the finished file is left (the temporary file was renamed).
  CHECK(std::distance(fs::directory_iterator(out.path), fs::directory_iterator{}) == 1);

  std::vector<std::string> args;
  {
    std::ifstream in(args_file);
    for (std::string line; std::getline(in, line);) args.push_back(line);
  }
  auto after = [&](const std::string& flag) {
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == flag) return args[i + 1];
    return std::string("(missing)");
  };
  CHECK(after("-f") == "rawvideo");
  CHECK(after("-s") == "152x100");
  CHECK(std::stod(after("-r")) == 24.0);
  CHECK(after("-i") == "-");
  CHECK(after("-c:v") == "libx264");
  CHECK(after("-pix_fmt") == "rgb24");  // Input format; the output one follows "-i -".
  CHECK(std::find(args.begin(), args.end(), "yuv420p") != args.end());

  const std::vector<uint8_t> raw = read_bytes(out.file("episode.mp4"));
  const size_t frame_bytes = 152 * 100 * 3;
  REQUIRE(raw.size() == frame_bytes * static_cast<size_t>(report.frames));
  auto env = EnvRegistry::global().make("classic/cartpole-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  env->reset(replay.seed, obs);
  Image render;
  auto check_frame = [&](int64_t index) {
    env->render(render);
    const Image expected = fit_frame(render, 151, 151);
    REQUIRE(expected.width == 151);
    REQUIRE(expected.height == 100);
    int mismatches = 0, padding_not_black = 0;
    const uint8_t* frame = raw.data() + frame_bytes * static_cast<size_t>(index);
    for (int y = 0; y < 100; ++y) {
      for (int x = 0; x < 151; ++x) {
        const uint8_t* p = frame + (y * 152 + x) * 3;
        mismatches += Color{p[0], p[1], p[2]} != expected.at(x, y);
      }
      const uint8_t* pad = frame + (y * 152 + 151) * 3;
      padding_not_black += pad[0] != 0 || pad[1] != 0 || pad[2] != 0;
    }
    CHECK(mismatches == 0);
    CHECK(padding_not_black == 0);
  };
  check_frame(0);
  for (int64_t i = 0; i < replay.steps(); ++i) env->step(replay.action(i), obs);
  check_frame(report.frames - 1);
}

TEST_CASE("MP4 export without a usable ffmpeg fails clearly and leaves nothing behind") {
  TempDir tools, out;
  const Replay replay = cartpole_replay(8);
  auto message_of = [&](const std::string& ffmpeg) {
    auto session = make_replay_session(replay, "mp4");
    ExportOptions options{out.file("x.mp4")};
    options.ffmpeg = ffmpeg;
    try {
      export_episode(*session, options);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // The default program when no ffmpeg is on PATH.
  const std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", tools.path.c_str(), 1);
  CHECK(!ffmpeg_available());
  const std::string missing = message_of("ffmpeg");
  ::setenv("PATH", saved_path.c_str(), 1);
  CHECK(missing.find(out.file("x.mp4") + ": .mp4 export needs ffmpeg, which is not installed") ==
        0);
  CHECK(missing.find("apt-get install ffmpeg") != std::string::npos);

  // A program given by name or path that does not exist.
  const std::string named = message_of("rlcade-no-such-ffmpeg");
  CHECK(named.find("'rlcade-no-such-ffmpeg' is not an executable program") != std::string::npos);
  const std::string nowhere = tools.file("nowhere/ffmpeg");
  const std::string by_path = message_of(nowhere);
  CHECK(by_path.find(nowhere + "' is not an executable program") != std::string::npos);

  // An ffmpeg that fails (e.g. built without libx264).
  const std::string failing = write_script(tools.file("failing-ffmpeg"), "exit 3\n");
  CHECK(message_of(failing).find("ffmpeg failed (exit status 3)") != std::string::npos);
  CHECK(fs::is_empty(out.path));
}

}  // namespace
}  // namespace rl::render
