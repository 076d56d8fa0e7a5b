#include "agents/distributed/phase_times.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rl::distributed {
namespace {

double clock_seconds(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Seconds since boot at which this process started (field 22 of /proc/self/stat, in clock
// ticks), on CLOCK_BOOTTIME's scale; now when it cannot be read.
double process_start_seconds() {
  std::ifstream file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t name_end = stat.rfind(')');  // The command name may hold spaces.
  if (name_end == std::string::npos) return clock_seconds(CLOCK_BOOTTIME);
  std::istringstream fields(stat.substr(name_end + 2));
  std::string field;
  for (int i = 3; i < 22 && fields >> field; ++i) {
  }
  unsigned long long ticks = 0;
  if (!(fields >> ticks)) return clock_seconds(CLOCK_BOOTTIME);
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

constexpr const char* kPhaseNames[] = {"start-up",    "rollout",     "update",
                                       "synchronize", "bookkeeping", "end"};

}  // namespace

bool PhaseTimes::requested() {
  const char* value = std::getenv("RLCADE_PHASE_TIMES");
  return value && *value;
}

PhaseTimes::PhaseTimes(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  phase_wall_start_ = process_start_seconds();
  phase_cpu_start_ = 0;  // The process's CPU clock starts with it.
}

void PhaseTimes::enter(Phase phase) {
  if (!enabled_) return;
  const double wall = clock_seconds(CLOCK_BOOTTIME), cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  wall_[current_] += wall - phase_wall_start_;
  cpu_[current_] += cpu - phase_cpu_start_;
  phase_wall_start_ = wall;
  phase_cpu_start_ = cpu;
  current_ = phase;
}

std::string PhaseTimes::report() {
  enter(current_);
  std::string text;
  double wall = 0, cpu = 0;
  char part[96];
  for (int p = 0; p < kPhases; ++p) {
    std::snprintf(part, sizeof part, "%s%s %.2f s wall / %.2f s CPU", p ? ", " : "", kPhaseNames[p],
                  wall_[p], cpu_[p]);
    text += part;
    wall += wall_[p];
    cpu += cpu_[p];
  }
  std::snprintf(part, sizeof part, "; all %.2f / %.2f", wall, cpu);
  return text + part;
}

}  // namespace rl::distributed
