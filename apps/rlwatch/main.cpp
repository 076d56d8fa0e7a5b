// rlwatch: watch replays and agents, play envs yourself, verify and export episodes.
// Everything but the agent hookup lives in render/watch_cli.h, its argument parsing included.
#include <iostream>
#include <string>
#include <vector>

#include "apps/rlwatch/agent_loader.h"
#include "core/command_line.h"
#include "render/watch_cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  rl::render::WatchArgs parsed;
  try {
    parsed = rl::render::parse_watch_args(args);
  } catch (const std::invalid_argument& e) {
    std::cerr << rl::cli::usage_error_line("rlwatch", e.what());
    return rl::cli::kExitUsage;
  }
  return rl::render::run_watch(parsed, rl::watch::make_agent_loader(), std::cout, std::cerr);
}
