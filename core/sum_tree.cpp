#include "core/sum_tree.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace rl {

SumTree::SumTree(int64_t capacity) : capacity_(capacity) {
  if (capacity < 1)
    throw std::invalid_argument("SumTree: capacity must be >= 1, got " + std::to_string(capacity));
  first_leaf_ = 1;
  while (first_leaf_ < capacity) first_leaf_ *= 2;
  nodes_.assign(2 * first_leaf_, 0.0);
}

void SumTree::set(int64_t index, double value) {
  if (index < 0 || index >= capacity_)
    throw std::invalid_argument("SumTree::set: index " + std::to_string(index) + " outside [0, " +
                                std::to_string(capacity_) + ")");
  if (!std::isfinite(value) || value < 0.0)
    throw std::invalid_argument("SumTree::set: value " + std::to_string(value) + " at index " +
                                std::to_string(index) + " is not finite and >= 0");
  int64_t node = first_leaf_ + index;
  nodes_[node] = value;
  for (node /= 2; node >= 1; node /= 2) nodes_[node] = nodes_[2 * node] + nodes_[2 * node + 1];
}

int64_t SumTree::find_prefix(double mass) const {
  if (!(mass > 0.0)) mass = 0.0;  // Also maps NaN to 0.
  int64_t node = 1;
  while (node < first_leaf_) {
    const double left = nodes_[2 * node];
    const double right = nodes_[2 * node + 1];
    // Go right only when the mass is past the left subtree and the right one holds something;
    // a mass at or past the total (rounding) therefore ends on the last non-empty leaf.
    if (mass >= left && right > 0.0) {
      mass -= left;
      node = 2 * node + 1;
    } else {
      node = 2 * node;
    }
  }
  return node - first_leaf_;
}

}  // namespace rl
