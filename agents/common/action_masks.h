// Legal-action masks as the agents receive them: batch rows of one byte per action, nonzero
// for a legal action (ActionBatch::legal_actions, TransitionBatch::next_legal_actions).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/rng.h"

namespace rl {

// Throws std::invalid_argument, prefixed with `agent` (e.g. "dqn"), unless `masks` holds
// `batch` rows of `actions` bytes each with at least one legal action.
void check_action_masks(std::span<const uint8_t> masks, int batch, int64_t actions,
                        const std::string& agent);

// A uniformly random legal action of one mask row (`actions` bytes, at least one nonzero):
// the k-th legal action for k uniform below their count. Draws one number from `rng`.
int64_t uniform_legal_action(Rng& rng, const uint8_t* legal, int64_t actions);

}  // namespace rl
