// The rlwatch command line: parsing and the actions behind it, as a library so that tests can
// run it in-process. apps/rlwatch/main.cpp is a thin main that adds the agent loader.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/params.h"
#include "render/watch_session.h"

namespace rl::render {

struct WatchArgs {
  enum class Source { kNone, kReplay, kRun, kCheckpoint, kPlay, kRandom };
  Source source = Source::kNone;
  std::string input;                // Replay file, run directory, checkpoint file or env id.
  std::vector<std::string> params;  // "key=value" from --param, for live envs.
  std::optional<std::string> record;
  std::optional<std::string> verify;
  std::optional<std::string> export_path;
  int width = 0, height = 0;  // --size WxH (0: automatic).
  double fps = 30.0;          // Env steps per second at speed x1.
  uint64_t seed = 0;
  int64_t episodes = 1;  // --headless: episodes to play.
  bool headless = false;
  std::string screenshot_dir = ".";
  std::string ffmpeg = "ffmpeg";  // --ffmpeg: the program .mp4 export runs.
  bool help = false;
};

// Parses argv[1..] (CLI11, with the conventions of core/command_line.h); throws
// cli::UsageError (an std::invalid_argument) naming the offending argument. --help sets `help`.
WatchArgs parse_watch_args(const std::vector<std::string>& args);
// The --help text.
std::string watch_usage();

// A trained agent ready to act: what apps/rlwatch builds from a run or a checkpoint.
struct LoadedAgent {
  std::string env_id;
  std::map<std::string, ParamValue> env_params;
  PolicySource policy;
  // Builds the env exactly as the agent was trained on it (wrappers included); optional.
  std::function<std::unique_ptr<Env>()> make_env;
  std::string agent_info;       // E.g. "dqn".
  std::string checkpoint_info;  // E.g. the checkpoint path and its training step.
};

// Loads an agent from a run directory (is_checkpoint false: its best checkpoint) or from a
// checkpoint file. Throws std::runtime_error with a clear message when it cannot.
using AgentLoader = std::function<LoadedAgent(const std::string& path, bool is_checkpoint)>;

// Exit codes of run_watch: the shared scheme of core/command_line.h (0, 1, 2).
inline constexpr int kWatchOk = 0;
inline constexpr int kWatchDiverged = 1;  // --verify: the replay did not re-simulate
// A file that cannot be read or written, a missing program (ffmpeg), window or agents build.
inline constexpr int kWatchFailed = 1;
// Bad arguments (std::invalid_argument: flags, env ids, parameters): nothing was done.
inline constexpr int kWatchUsage = 2;

// Runs rlwatch. `agent_loader` may be empty (then runs and checkpoints are refused with a
// message). Errors go to `err` as one line naming what is wrong; results go to `out`.
int run_watch(const WatchArgs& args, const AgentLoader& agent_loader, std::ostream& out,
              std::ostream& err);

}  // namespace rl::render
