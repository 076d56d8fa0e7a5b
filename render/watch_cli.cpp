#include "render/watch_cli.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <memory>
#include <ostream>
#include <stdexcept>

#include "core/registry.h"
#include "core/replay_file.h"
#include "render/export.h"
#include "render/viewer.h"

namespace rl::render {
namespace {

using Source = WatchArgs::Source;

template <typename T>
T parse_number(const std::string& text, const std::string& what) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty())
    throw std::invalid_argument(what + ": '" + text + "' is not a valid number");
  return value;
}

double parse_double(const std::string& text, const std::string& what) {
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value))
    throw std::invalid_argument(what + ": '" + text + "' is not a valid number");
  return value;
}

void parse_size(const std::string& text, WatchArgs& args) {
  const size_t x = text.find('x');
  if (x == std::string::npos)
    throw std::invalid_argument("--size: '" + text + "' must look like WIDTHxHEIGHT, e.g. 640x480");
  args.width = parse_number<int>(text.substr(0, x), "--size width");
  args.height = parse_number<int>(text.substr(x + 1), "--size height");
  if (args.width < 1 || args.height < 1 || args.width > 8192 || args.height > 8192)
    throw std::invalid_argument("--size: " + text + " is outside 1x1..8192x8192");
}

void set_source(WatchArgs& args, Source source, const std::string& input, const std::string& flag) {
  if (args.source != Source::kNone)
    throw std::invalid_argument(flag + " " + input + ": only one thing can be watched at a time (" +
                                "already given: " + args.input + ")");
  args.source = source;
  args.input = input;
}

ParamValue parse_param_value(const ParamSpec& spec, const std::string& text,
                             const std::string& where) {
  switch (spec.default_value.index()) {
    case 0:
      if (text == "true" || text == "1") return true;
      if (text == "false" || text == "0") return false;
      throw std::invalid_argument(where + " must be true or false, got '" + text + "'");
    case 1:
      return parse_number<int64_t>(text, where);
    case 2:
      return parse_double(text, where);
    default:
      return text;
  }
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
    options.env_params = parse_env_params(args.input, args.params);
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
    return kWatchError;
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

std::string watch_usage() {
  return R"(usage:
  rlwatch REPLAY.rlr                 play a recorded episode (re-simulated, checksums verified)
  rlwatch runs/NAME                  watch the run's best agent play live
  rlwatch --checkpoint FILE          watch the agent of a checkpoint
  rlwatch --play ENV_ID              play yourself with the keyboard
  rlwatch --env ENV_ID               watch a random policy
  rlwatch --verify REPLAY.rlr        re-simulate; exit 1 on divergence, 2 on a bad file
options:
  --export OUT.gif|OUT.png|OUT.mp4   write the episode without a window (.mp4 needs ffmpeg)
  --record FILE.rlr                  record live episodes (episode k > 1: FILE-k.rlr)
  --size WxH                         picture size (window game area, or export frame box)
  --fps N                            env steps per second at speed x1 (default 30)
  --seed N                           seed of the first live episode (episode k: N + k - 1)
  --param KEY=VALUE                  env parameter for --play/--env (repeatable)
  --headless                         play live episodes without a window (with --episodes N)
  --screenshots DIR                  where s saves screenshots (default .)
  --ffmpeg PROGRAM                   the ffmpeg that .mp4 export runs (default: ffmpeg on PATH)
keys: space pause, right step, +/- speed, r restart, s screenshot, q/Esc quit
      (--play: arrows/space play, p pause, n step)
)";
}

WatchArgs parse_watch_args(const std::vector<std::string>& args) {
  WatchArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw std::invalid_argument(arg + " needs a value");
      return args[++i];
    };
    if (arg == "-h" || arg == "--help")
      parsed.help = true;
    else if (arg == "--play")
      set_source(parsed, Source::kPlay, value(), arg);
    else if (arg == "--env")
      set_source(parsed, Source::kRandom, value(), arg);
    else if (arg == "--checkpoint")
      set_source(parsed, Source::kCheckpoint, value(), arg);
    else if (arg == "--record")
      parsed.record = value();
    else if (arg == "--verify")
      parsed.verify = value();
    else if (arg == "--export")
      parsed.export_path = value();
    else if (arg == "--size")
      parse_size(value(), parsed);
    else if (arg == "--fps")
      parsed.fps = parse_double(value(), "--fps");
    else if (arg == "--seed")
      parsed.seed = parse_number<uint64_t>(value(), "--seed");
    else if (arg == "--episodes")
      parsed.episodes = parse_number<int64_t>(value(), "--episodes");
    else if (arg == "--param")
      parsed.params.push_back(value());
    else if (arg == "--headless")
      parsed.headless = true;
    else if (arg == "--screenshots")
      parsed.screenshot_dir = value();
    else if (arg == "--ffmpeg")
      parsed.ffmpeg = value();
    else if (!arg.empty() && arg[0] == '-')
      throw std::invalid_argument("unknown option " + arg);
    else if (std::filesystem::is_directory(arg))
      set_source(parsed, Source::kRun, arg, "run");
    else
      set_source(parsed, Source::kReplay, arg, "replay");
  }
  if (!(parsed.fps > 0.0) || parsed.fps > 10000.0)
    throw std::invalid_argument("--fps must be in (0, 10000]");
  if (parsed.episodes < 1) throw std::invalid_argument("--episodes must be at least 1");
  if (parsed.verify && parsed.source != WatchArgs::Source::kNone)
    throw std::invalid_argument("--verify takes only the replay file: rlwatch --verify FILE");
  return parsed;
}

std::map<std::string, ParamValue> parse_env_params(const std::string& env_id,
                                                   const std::vector<std::string>& pairs) {
  const EnvRegistry& registry = EnvRegistry::global();
  const EnvEntry& entry = registry.find(env_id);  // unknown ids: suggests the nearest
  std::map<std::string, ParamValue> params;
  for (const auto& pair : pairs) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--param '" + pair + "' must look like KEY=VALUE");
    const std::string key = pair.substr(0, eq);
    const ParamSpec* spec = nullptr;
    for (const auto& s : entry.params)
      if (s.name == key) spec = &s;
    if (!spec) {
      std::string valid;
      for (const auto& s : entry.params) valid += (valid.empty() ? "" : ", ") + s.name;
      throw std::invalid_argument(env_id + ": unknown parameter '" + key +
                                  "'; valid: " + (valid.empty() ? std::string("(none)") : valid));
    }
    params[key] = parse_param_value(*spec, pair.substr(eq + 1), "--param " + key);
  }
  Params::resolve(entry.params, params, env_id);  // Ranges and choices.
  return params;
}

int run_watch(const WatchArgs& args, const AgentLoader& agent_loader, std::ostream& out,
              std::ostream& err) {
  try {
    return run_checked(args, agent_loader, out, err);
  } catch (const std::exception& e) {
    err << "rlwatch: " << e.what() << "\n";
    return kWatchError;
  }
}

}  // namespace rl::render
