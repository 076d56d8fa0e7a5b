#include "agents/common/action_masks.h"

#include <algorithm>
#include <stdexcept>

namespace rl {

void check_action_masks(std::span<const uint8_t> masks, int batch, int64_t actions,
                        const std::string& agent) {
  const size_t expected = static_cast<size_t>(batch) * static_cast<size_t>(actions);
  if (masks.size() != expected) {
    throw std::invalid_argument(agent + ": expected " + std::to_string(expected) +
                                " legal-action mask bytes (" + std::to_string(batch) + " rows of " +
                                std::to_string(actions) + "), got " + std::to_string(masks.size()));
  }
  for (int i = 0; i < batch; ++i) {
    const auto row = masks.subspan(static_cast<size_t>(i) * actions, actions);
    if (std::none_of(row.begin(), row.end(), [](uint8_t m) { return m != 0; })) {
      throw std::invalid_argument(agent + ": row " + std::to_string(i) +
                                  " has no legal action in its mask");
    }
  }
}

int64_t uniform_legal_action(Rng& rng, const uint8_t* legal, int64_t actions) {
  const int64_t count = std::count_if(legal, legal + actions, [](uint8_t m) { return m != 0; });
  int64_t k = static_cast<int64_t>(rng.below(static_cast<uint64_t>(count)));
  int64_t action = 0;
  while (!legal[action] || k-- > 0) ++action;
  return action;
}

}  // namespace rl
