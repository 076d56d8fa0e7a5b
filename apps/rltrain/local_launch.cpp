#include "apps/rltrain/local_launch.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <thread>

#include "agents/distributed/gloo_group.h"

extern char** environ;

namespace rl::local_launch {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_signal{0};
std::atomic<int> g_signals_seen{0};
extern "C" void remember_signal(int signal) {
  g_signal.store(signal);
  g_signals_seen.fetch_add(1);
}

// Starts one worker in a process group of its own (the launcher passes signals on once).
pid_t spawn_worker(const std::vector<std::string>& args) {
  const std::string program = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> strings = args;
  strings.insert(strings.begin(), program);
  std::vector<char*> argv;
  for (std::string& a : strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, program.c_str(), nullptr, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::runtime_error("cannot start " + program + ": " + std::strerror(error));
  return pid;
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  std::optional<int> status;  // waitpid status once it ended.
};

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

bool is_interrupt_code(int code) { return code == 128 + SIGINT || code == 128 + SIGTERM; }

}  // namespace

int run(const Options& options) {
  const distributed::StoreServer store;
  ::setenv(kStoreHostedVariable, "1", 1);
  const std::string master = "127.0.0.1:" + std::to_string(store.port());
  std::signal(SIGINT, remember_signal);
  std::signal(SIGTERM, remember_signal);
  std::vector<Worker> workers;
  for (int rank = 0; rank < options.processes; ++rank) {
    std::vector<std::string> args = options.worker_args;
    args.insert(args.end(), {"--rank", std::to_string(rank), "--world-size",
                             std::to_string(options.processes), "--master", master});
    workers.push_back({rank, spawn_worker(args), std::nullopt});
  }
  const auto kill_deadline = std::chrono::duration<double>(options.timeout_s + 30.0);
  // When to kill the ranks still running after the first one failed (never until then).
  Clock::time_point kill_at = Clock::time_point::max();
  int forwarded = 0, failed_rank = -1, failed_code = 0;
  size_t running = workers.size();
  while (running > 0) {
    for (; forwarded < g_signals_seen.load(); ++forwarded) {
      for (const Worker& w : workers) {
        if (!w.status) ::kill(w.pid, g_signal.load());
      }
    }
    for (Worker& w : workers) {
      int status = 0;
      if (w.status || ::waitpid(w.pid, &status, WNOHANG) != w.pid) continue;
      w.status = status;
      --running;
      const int code = exit_code_of(status);
      if (code != 0 && !is_interrupt_code(code) && failed_rank < 0) {
        failed_rank = w.rank;
        failed_code = code;
        kill_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(kill_deadline);
      }
    }
    if (Clock::now() > kill_at) {
      for (const Worker& w : workers) {
        if (!w.status) ::kill(w.pid, SIGKILL);
      }
      if (options.log) *options.log << "rltrain: killed the ranks still running\n";
      kill_at = Clock::time_point::max();
    }
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (failed_rank >= 0) {
    if (options.log) {
      *options.log << "rltrain: rank " << failed_rank << " of " << options.processes
                   << " failed (exit code " << failed_code << ")\n";
    }
    // Bad settings found by a rank (exit code 2) keep their exit code, as in one process.
    return failed_code == 2 ? 2 : 1;
  }
  if (g_signal.load() != 0) return 128 + g_signal.load();
  for (const Worker& w : workers) {
    const int code = exit_code_of(*w.status);
    if (code != 0) return code;  // Interrupted by a signal sent to a worker directly.
  }
  return 0;
}

}  // namespace rl::local_launch
