#include "agents/distributed/rollout_cutoff.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "core/config.h"

namespace rl::distributed {

void check_cutoff_settings(const CutoffSettings& settings, const std::string& where) {
  const auto check = [&](const char* key, double value) {
    if (!(value > 0.0 && value <= 1.0)) {
      throw ConfigError(where + ": distributed." + key + " is " + std::to_string(value) +
                        ": it must be in (0, 1]");
    }
  };
  check("sync_fraction", settings.sync_fraction);
  check("min_rollout_fraction", settings.min_rollout_fraction);
}

RolloutCutoff::RolloutCutoff(Collectives& collectives, const CutoffSettings& settings,
                             int num_steps)
    : collectives_(collectives),
      settings_(settings),
      num_steps_(num_steps),
      minimum_steps_(std::clamp(
          static_cast<int>(std::ceil(settings.min_rollout_fraction * num_steps)), 1, num_steps)) {
  check_cutoff_settings(settings, "RolloutCutoff");
}

std::string RolloutCutoff::counter_key() const {
  return "rlcade/rollouts_done/" + std::to_string(rollout_);
}

bool RolloutCutoff::rollout_over(int steps_done) {
  if (steps_done >= num_steps_) {
    if (settings_.enabled()) collectives_.add_to_counter(counter_key(), 1);
    return true;
  }
  if (!settings_.enabled() || steps_done < minimum_steps_) return false;
  const auto finished = static_cast<double>(collectives_.add_to_counter(counter_key(), 0));
  return finished >= settings_.sync_fraction * collectives_.world_size();
}

void RolloutCutoff::next_rollout() {
  // Every rank is past this rollout's counter: rank 0 removes it, so that the store does not
  // grow by a key per update.
  if (settings_.enabled() && collectives_.rank() == 0) collectives_.remove_counter(counter_key());
  ++rollout_;
}

std::chrono::microseconds injected_step_delay(int rank) {
  const char* value = std::getenv("RLCADE_TEST_SLOW_RANK");
  if (!value || !*value) return std::chrono::microseconds(0);
  char* end = nullptr;
  const long slow_rank = std::strtol(value, &end, 10);
  long long micros = -1;
  if (*end == ':') micros = std::strtoll(end + 1, &end, 10);
  if (*end != '\0' || slow_rank < 0 || micros < 0) {
    throw std::invalid_argument(std::string("RLCADE_TEST_SLOW_RANK is '") + value +
                                "': expected RANK:MICROSECONDS, e.g. 1:2000");
  }
  return std::chrono::microseconds(slow_rank == rank ? micros : 0);
}

}  // namespace rl::distributed
