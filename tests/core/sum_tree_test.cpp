#include "core/sum_tree.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/rng.h"

namespace rl {
namespace {

// The leaf a linear scan finds for `mass`: the first i with mass < prefix(i) + leaf(i).
int64_t naive_find(const std::vector<double>& leaves, double mass) {
  double prefix = 0.0;
  for (size_t i = 0; i < leaves.size(); ++i) {
    prefix += leaves[i];
    if (mass < prefix) return static_cast<int64_t>(i);
  }
  return -1;
}

TEST_CASE("sum tree: total equals the sum of the leaves after many updates") {
  for (int64_t capacity : {1, 2, 3, 7, 8, 100, 1000}) {
    SumTree tree(capacity);
    std::vector<double> leaves(capacity, 0.0);
    Rng rng(static_cast<uint64_t>(capacity));
    for (int update = 0; update < 5000; ++update) {
      const int64_t i = static_cast<int64_t>(rng.below(capacity));
      leaves[i] = rng.bernoulli(0.1) ? 0.0 : rng.uniform(0.0, 10.0);
      tree.set(i, leaves[i]);
    }
    double sum = 0.0;
    for (int64_t i = 0; i < capacity; ++i) {
      REQUIRE(tree.get(i) == leaves[i]);
      sum += leaves[i];
    }
    CHECK(tree.total() == doctest::Approx(sum).epsilon(1e-12));
  }
}

TEST_CASE("sum tree: prefix-sum search agrees with a linear scan") {
  SumTree tree(11);
  const std::vector<double> leaves = {0.5, 0.0, 2.0, 1.0, 0.0, 0.0, 3.5, 0.25, 0.0, 1.75, 0.0};
  for (size_t i = 0; i < leaves.size(); ++i) tree.set(static_cast<int64_t>(i), leaves[i]);
  CHECK(tree.total() == doctest::Approx(9.0));
  // Exact boundaries belong to the next non-empty leaf.
  CHECK(tree.find_prefix(0.0) == 0);
  CHECK(tree.find_prefix(0.4999) == 0);
  CHECK(tree.find_prefix(0.5) == 2);
  CHECK(tree.find_prefix(2.5) == 3);
  CHECK(tree.find_prefix(3.5) == 6);
  CHECK(tree.find_prefix(7.0) == 7);
  CHECK(tree.find_prefix(7.25) == 9);
  // Masses at or past the total (rounding) and negative ones stay on non-empty leaves.
  CHECK(tree.find_prefix(9.0) == 9);
  CHECK(tree.find_prefix(1e9) == 9);
  CHECK(tree.find_prefix(-3.0) == 0);
  CHECK(tree.find_prefix(std::numeric_limits<double>::quiet_NaN()) == 0);
  Rng rng(3);
  for (int trial = 0; trial < 20000; ++trial) {
    const double mass = rng.uniform(0.0, tree.total());
    const int64_t found = tree.find_prefix(mass);
    REQUIRE(found == naive_find(leaves, mass));
    REQUIRE(leaves[found] > 0.0);
  }
}

TEST_CASE("sum tree: an empty leading subtree is never selected") {
  SumTree tree(8);
  tree.set(7, 1.0);
  for (double mass : {0.0, 0.3, 0.999999, 1.0, 5.0}) CHECK(tree.find_prefix(mass) == 7);
  tree.set(7, 0.0);
  CHECK(tree.total() == 0.0);
}

TEST_CASE("sum tree: bad input is rejected") {
  CHECK_THROWS_AS(SumTree(0), std::invalid_argument);
  SumTree tree(4);
  CHECK_THROWS_AS(tree.set(4, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(tree.set(-1, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(tree.set(0, -0.5), std::invalid_argument);
  CHECK_THROWS_AS(tree.set(0, std::numeric_limits<double>::infinity()), std::invalid_argument);
  CHECK_THROWS_AS(tree.set(0, std::nan("")), std::invalid_argument);
  CHECK(tree.total() == 0.0);
}

}  // namespace
}  // namespace rl
