#include "render/watch_cli.h"

#include <filesystem>
#include <memory>
#include <ostream>
#include <stdexcept>

#include "core/command_line.h"
#include "core/key_value.h"
#include "core/replay_file.h"
#include "render/export.h"
#include "render/viewer.h"

namespace rl::render {
namespace {

using Source = WatchArgs::Source;

// "640x480": each side in [1, 8192].
void parse_size(const std::string& text, WatchArgs& args) {
  const size_t x = text.find('x');
  if (x == std::string::npos)
    throw cli::UsageError("--size: '" + text + "' must look like WIDTHxHEIGHT, e.g. 640x480");
  const std::optional<int64_t> width = parse_int(text.substr(0, x));
  const std::optional<int64_t> height = parse_int(text.substr(x + 1));
  if (!width || !height || *width < 1 || *height < 1 || *width > 8192 || *height > 8192)
    throw cli::UsageError("--size: " + text + " is outside 1x1..8192x8192");
  args.width = static_cast<int>(*width);
  args.height = static_cast<int>(*height);
}

void set_source(WatchArgs& args, Source source, const std::string& input, const std::string& flag) {
  if (args.source != Source::kNone)
    throw cli::UsageError(flag + " " + input + ": only one thing can be watched at a time (" +
                          "already given: " + args.input + ")");
  args.source = source;
  args.input = input;
}

struct Built {
  std::unique_ptr<WatchSession> session;
  LiveSession* live = nullptr;  // Same object, when the session is live.
  ViewerMode mode = ViewerMode::kWatch;
};

std::optional<RecordingOptions> recording_for(const WatchArgs& args, std::string agent_info,
                                              std::string checkpoint_info) {
  if (!args.record) return std::nullopt;
  return RecordingOptions{*args.record, std::move(agent_info), std::move(checkpoint_info)};
}

Built build_session(const WatchArgs& args, const AgentLoader& agent_loader) {
  Built built;
  if (args.source == Source::kReplay) {
    if (args.record) throw std::invalid_argument("--record records live play, not a replay");
    if (!args.params.empty()) throw std::invalid_argument("--param does not apply to a replay");
    built.session = make_replay_session(
        read_replay(args.input), "replay " + std::filesystem::path(args.input).filename().string());
    return built;
  }
  LiveOptions options;
  options.seed = args.seed;
  std::unique_ptr<LiveSession> live;
  if (args.source == Source::kPlay || args.source == Source::kRandom) {
    options.env_id = args.input;
    options.env_params = parse_env_params(args.input, args.params, "--param");
    if (args.source == Source::kPlay) {
      options.label = "human";
      options.recording = recording_for(args, "human", "");
      live = make_human_session(std::move(options));
      built.mode = ViewerMode::kPlay;
    } else {
      options.label = "random policy (seed " + std::to_string(args.seed) + ")";
      options.recording = recording_for(args, options.label, "");
      live = make_policy_session(std::move(options), random_policy(args.seed));
    }
  } else {
    if (!agent_loader)
      throw std::runtime_error(
          "watching a trained agent needs rlwatch built with the LibTorch agents (agents/), "
          "which this build does not have");
    if (!args.params.empty())
      throw std::invalid_argument("--param does not apply to an agent (its run fixes the env)");
    LoadedAgent agent = agent_loader(args.input, args.source == Source::kCheckpoint);
    options.env_id = agent.env_id;
    options.env_params = agent.env_params;
    options.make_env = std::move(agent.make_env);
    options.label = "agent " + agent.agent_info;
    options.recording = recording_for(args, agent.agent_info, agent.checkpoint_info);
    live = make_policy_session(std::move(options), std::move(agent.policy));
  }
  built.live = live.get();
  built.session = std::move(live);
  return built;
}

int verify_file(const std::string& path, std::ostream& out, std::ostream& err) {
  const ReplayVerification report = verify_replay(path);
  if (report.ok()) {
    out << path << ": " << report.summary() << "\n";
    return kWatchOk;
  }
  err << path << ": " << report.summary() << "\n";
  return kWatchDiverged;
}

int export_file(const WatchArgs& args, WatchSession& session, std::ostream& out,
                std::ostream& err) {
  ExportOptions options;
  options.path = *args.export_path;
  options.width = args.width;
  options.height = args.height;
  options.fps = args.fps;
  options.ffmpeg = args.ffmpeg;
  const ExportReport report = export_episode(session, options);
  out << "wrote " << report.path << ": " << report.frames_written << " frames of " << report.width
      << "x" << report.height << " (" << report.frames << " rendered)\n";
  if (report.divergence) {
    err << "rlwatch: the replay diverged at step " << report.divergence->step << ": "
        << report.divergence->what << "; the export shows the re-simulation\n";
    return kWatchDiverged;
  }
  return kWatchOk;
}

int play_headless(const WatchArgs& args, LiveSession& live, std::ostream& out) {
  for (int64_t episode = 1; episode <= args.episodes; ++episode) {
    while (!live.episode_over()) live.advance();
    out << "episode " << live.hud().episode << ": return " << live.hud().episode_return
        << ", steps " << live.hud().step << "\n";
    if (episode < args.episodes) live.advance();  // Starts the next episode.
  }
  return kWatchOk;
}

void report_recordings(const LiveSession* live, std::ostream& out) {
  if (!live) return;
  for (const auto& file : live->recorded_files()) out << "recorded " << file << "\n";
}

int run_checked(const WatchArgs& args, const AgentLoader& agent_loader, std::ostream& out,
                std::ostream& err) {
  if (args.help) {
    out << watch_usage();
    return kWatchOk;
  }
  if (args.verify) return verify_file(*args.verify, out, err);
  if (args.source == Source::kNone) {
    err << "rlwatch: nothing to watch\n" << watch_usage();
    return kWatchUsage;
  }
  if (args.source == Source::kPlay && (args.export_path || args.headless))
    throw std::invalid_argument(
        "--play needs a window; record with --record, then export or verify the replay");
  if (args.source == Source::kReplay && args.headless)
    throw std::invalid_argument("--headless plays live episodes; use --verify for a replay");
  Built built = build_session(args, agent_loader);
  if (args.export_path) return export_file(args, *built.session, out, err);
  if (args.headless) {
    const int code = play_headless(args, *built.live, out);
    report_recordings(built.live, out);
    return code;
  }
  ViewerOptions options;
  options.frame_width = args.width;
  options.frame_height = args.height;
  options.steps_per_second = args.fps;
  options.screenshot_dir = args.screenshot_dir;
  options.title = "rlwatch - " + built.session->hud().env_id;
  {
    Viewer viewer(*built.session, built.mode, options);
    viewer.run();
  }
  if (built.live) built.live->save_partial();
  report_recordings(built.live, out);
  if (const auto divergence = built.session->divergence()) {
    err << "rlwatch: " << args.input << " diverged at step " << divergence->step << ": "
        << divergence->what << "\n";
    return kWatchDiverged;
  }
  return kWatchOk;
}

}  // namespace

namespace {

const char kSynopsis[] =
    R"(rlwatch REPLAY.rlr                 play a recorded episode (re-simulated, checksums verified)
       rlwatch runs/NAME                  watch the run's best agent play live
       rlwatch --checkpoint FILE          watch the agent of a checkpoint
       rlwatch --play ENV_ID              play yourself with the keyboard
       rlwatch --env ENV_ID               watch a random policy
       rlwatch --verify REPLAY.rlr        re-simulate; exit 1 on divergence
       rlwatch --help)";

const char kDescription[] =
    "Watches replays and agents in a window, lets you play an env, and verifies or exports\n"
    "episodes without one (--verify, --export, --headless).\n";

const char kFooter[] =
    R"(keys: space pause, right step, +/- speed, r restart, s screenshot, q/Esc quit
      (--play: arrows/space play, p pause, n step)
--param values are read as the parameter's declared type: true/false, integers (1e3 = 1000),
numbers, or text (the same rule as rlserve --param and rltrain --set env.params.KEY=VALUE).
Exit codes: 0 done, 1 failed while running (the replay diverged from its recording, a file
cannot be read or written, ffmpeg is missing), 2 bad arguments (nothing was done).
)";

// The rlwatch command line; parsed values land in `parsed` (sources in `inputs` first).
void define_options(CLI::App& app, WatchArgs& parsed, std::vector<std::string>& inputs) {
  cli::configure(app, kSynopsis, kDescription, kFooter);
  app.add_option("SOURCE", inputs, "a replay file (.rlr) or a run folder")->type_name("");
  auto add_source = [&](const std::string& flag, Source source, const std::string& doc) {
    return cli::add_value(app, flag, doc, [&parsed, flag, source](const std::string& text) {
      set_source(parsed, source, text, flag);
    });
  };
  add_source("--play", Source::kPlay, "play yourself with the keyboard")->type_name("ENV_ID");
  add_source("--env", Source::kRandom, "watch a random policy")->type_name("ENV_ID");
  add_source("--checkpoint", Source::kCheckpoint, "watch the agent of a checkpoint")
      ->type_name("FILE");
  auto add_path = [&](const std::string& flag, std::optional<std::string>& target,
                      const std::string& doc) {
    return cli::add_value(app, flag, doc, [&target](const std::string& text) { target = text; });
  };
  add_path("--verify", parsed.verify, "re-simulate a replay and check it against its recording")
      ->type_name("REPLAY.rlr");
  add_path("--export", parsed.export_path,
           "write the episode without a window (.gif, .png frames, .mp4 with ffmpeg)")
      ->type_name("OUT");
  add_path("--record", parsed.record, "record live episodes (episode k > 1: FILE-k.rlr)")
      ->type_name("FILE.rlr");
  cli::add_value(app, "--size", "picture size (window game area, or export frame box)",
                 [&parsed](const std::string& text) { parse_size(text, parsed); })
      ->type_name("WxH");
  cli::add_value(app, "--fps", "env steps per second at speed x1 (default 30)",
                 [&parsed](const std::string& text) {
                   parsed.fps = cli::float_value(
                       "--fps", text, [](double x) { return x > 0.0 && x <= 10000.0; },
                       "a number in (0, 10000]");
                 })
      ->type_name("N");
  cli::add_int(app, "--seed", parsed.seed, 0, INT64_MAX,
               "seed of the first live episode (episode k: N + k - 1)");
  cli::add_int(app, "--episodes", parsed.episodes, 1, INT64_MAX,
               "with --headless: episodes to play (default 1)");
  cli::add_repeated(app, "--param", parsed.params, "KEY=VALUE",
                    "env parameter for --play/--env (repeatable)");
  app.add_flag("--headless", parsed.headless, "play live episodes without a window");
  app.add_option("--screenshots", parsed.screenshot_dir, "where s saves screenshots (default .)")
      ->type_name("DIR");
  app.add_option("--ffmpeg", parsed.ffmpeg,
                 "the ffmpeg that .mp4 export runs (default: ffmpeg on PATH)")
      ->type_name("PROGRAM");
}

// A positional argument: a run folder or a replay file.
void set_positional_source(WatchArgs& parsed, const std::string& input) {
  if (std::filesystem::is_directory(input))
    set_source(parsed, Source::kRun, input, "run");
  else
    set_source(parsed, Source::kReplay, input, "replay");
}

}  // namespace

std::string watch_usage() {
  CLI::App app("", "rlwatch");
  WatchArgs unused;
  std::vector<std::string> inputs;
  define_options(app, unused, inputs);
  return app.help();
}

WatchArgs parse_watch_args(const std::vector<std::string>& args) {
  WatchArgs parsed;
  std::vector<std::string> inputs;
  CLI::App app("", "rlwatch");
  define_options(app, parsed, inputs);
  if (!cli::parse(app, args)) {
    parsed.help = true;
    return parsed;
  }
  for (const std::string& input : inputs) set_positional_source(parsed, input);
  if (parsed.verify && parsed.source != WatchArgs::Source::kNone)
    throw cli::UsageError("--verify takes only the replay file: rlwatch --verify FILE");
  return parsed;
}

int run_watch(const WatchArgs& args, const AgentLoader& agent_loader, std::ostream& out,
              std::ostream& err) {
  try {
    return run_checked(args, agent_loader, out, err);
  } catch (const std::invalid_argument& e) {
    err << "rlwatch: " << e.what() << "\n";
    return kWatchUsage;
  } catch (const std::exception& e) {
    err << "rlwatch: " << e.what() << "\n";
    return kWatchFailed;
  }
}

}  // namespace rl::render
