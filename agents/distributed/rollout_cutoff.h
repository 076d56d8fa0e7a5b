// DD-PPO's straggler cut-off (Wijmans et al. 2020; habitat-lab's sync_frac): once a share
// `sync_fraction` of the ranks have collected their whole rollout, the others end theirs early,
// after at least `min_rollout_fraction` of num_steps, so that a slow rank does not set the pace
// of every update. The count of finished ranks is a counter in the rendezvous store (one key
// per rollout), read once per step by a rank past its minimum: no collective, no waiting.
//
// Habitat-lab's comparison: the others stop when finished >= sync_fraction x world size. So
// with 2 ranks, sync_fraction 0.6 cuts nobody (both must finish) and 0.5 cuts the slower rank.
//
// Wired in by OnPolicyAgent::enable_rollout_cutoff (config `distributed: {sync_fraction,
// min_rollout_fraction}`); the trainer then counts env steps and synchronizes the ranks at
// update boundaries (docs/distributed.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "agents/distributed/collectives.h"

namespace rl::distributed {

struct CutoffSettings {
  // The share of ranks that must have finished their rollout before the others stop early;
  // 1 (the default) turns the cut-off off: every rank collects whole rollouts.
  double sync_fraction = 1.0;
  // The least share of num_steps a rank collects before it may be cut short.
  double min_rollout_fraction = 0.25;
  bool enabled() const { return sync_fraction < 1.0; }
};

// Throws ConfigError, naming `where` and the key, unless 0 < sync_fraction <= 1 and
// 0 < min_rollout_fraction <= 1.
void check_cutoff_settings(const CutoffSettings& settings, const std::string& where);

class RolloutCutoff {
 public:
  // `num_steps`: steps per env of a whole rollout. `collectives` must outlive this.
  RolloutCutoff(Collectives& collectives, const CutoffSettings& settings, int num_steps);

  // Call after each step of a rollout, with the steps stored so far. True when this rank's
  // rollout is over: it reached num_steps (then it counts itself as finished), or it has at
  // least the minimum and enough other ranks have finished. Always num_steps when disabled.
  bool rollout_over(int steps_done);
  // Call once every rank has ended this rollout (after the update's first collective): the
  // next rollout counts afresh.
  void next_rollout();

  int minimum_steps() const { return minimum_steps_; }

 private:
  std::string counter_key() const;

  Collectives& collectives_;
  CutoffSettings settings_;
  int num_steps_;
  int minimum_steps_;
  int64_t rollout_ = 0;
};

// Tests only: a pause after every env step of rank `rank`, from RLCADE_TEST_SLOW_RANK=R:US
// (rank R sleeps US microseconds per step), so that a test can make a straggler. Zero when
// unset or for another rank; throws std::invalid_argument for a malformed value.
std::chrono::microseconds injected_step_delay(int rank);

}  // namespace rl::distributed
