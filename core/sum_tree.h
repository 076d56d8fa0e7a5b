// A binary sum tree over a fixed number of non-negative leaf values: O(log n) updates and
// O(log n) search for the leaf at a given prefix sum. Used for proportional prioritized replay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rl {

class SumTree {
 public:
  // A tree of `capacity` leaves, all zero. Throws std::invalid_argument if capacity < 1.
  explicit SumTree(int64_t capacity);

  int64_t capacity() const { return capacity_; }
  // Sets leaf `index` to `value` (finite, >= 0; std::invalid_argument otherwise) and updates
  // the sums above it. Every parent is recomputed from its two children, so rounding errors
  // do not accumulate across updates.
  void set(int64_t index, double value);
  double get(int64_t index) const { return nodes_[first_leaf_ + index]; }
  // Sum of all leaves.
  double total() const { return nodes_[1]; }

  // Returns the leaf i with prefix(i) <= mass < prefix(i) + leaf(i), where prefix(i) is the sum
  // of the leaves before i. `mass` is clamped to [0, total()); the result always has a positive
  // value when total() > 0 (rounding can never land on an empty leaf).
  int64_t find_prefix(double mass) const;

  size_t memory_bytes() const { return nodes_.capacity() * sizeof(double); }

 private:
  int64_t capacity_;
  int64_t first_leaf_;         // Index of leaf 0 in nodes_ (a power of two).
  std::vector<double> nodes_;  // 1-based heap layout: children of k are 2k and 2k+1.
};

}  // namespace rl
