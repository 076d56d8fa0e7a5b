#include "agents/common/nn/nonzero_scan.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace rl {
namespace {

template <typename Value>
std::vector<int32_t> plain_nonzero_indices(const std::vector<Value>& values) {
  std::vector<int32_t> indices;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] != 0) indices.push_back(static_cast<int32_t>(i));
  }
  return indices;
}

template <typename Value>
std::vector<int32_t> scanned(const std::vector<Value>& values) {
  // One spare entry past n, which the scan must leave alone.
  std::vector<int32_t> indices(values.size() + 1, -7);
  const int64_t count =
      nn::nonzero_indices(values.data(), static_cast<int64_t>(values.size()), indices.data());
  CHECK(indices.back() == -7);
  indices.resize(static_cast<size_t>(count));
  return indices;
}

// Lengths around the 16-float and 64-byte blocks and a MinAtar frame's 400 inputs.
constexpr int kLengths[] = {0, 1, 15, 16, 17, 63, 64, 65, 127, 400, 401};

TEST_CASE("nonzero_scan: bytes' nonzero indices in order, every length and density") {
  std::mt19937 rng(3);
  for (const int n : kLengths) {
    for (const double density : {0., 0.1, 0.5, 1.}) {
      CAPTURE(n);
      CAPTURE(density);
      std::bernoulli_distribution nonzero(density);
      std::uniform_int_distribution<int> byte(1, 255);
      std::vector<uint8_t> values(n);
      for (uint8_t& v : values) v = nonzero(rng) ? static_cast<uint8_t>(byte(rng)) : 0;
      CHECK(scanned(values) == plain_nonzero_indices(values));
    }
  }
}

TEST_CASE("nonzero_scan: floats' nonzero indices, NaN nonzero and -0 zero") {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (const int n : kLengths) {
    for (const double density : {0., 0.1, 0.5, 1.}) {
      CAPTURE(n);
      CAPTURE(density);
      std::bernoulli_distribution nonzero(density);
      std::vector<float> values(n);
      for (float& v : values) v = nonzero(rng) ? normal(rng) : 0.f;
      if (n > 2) {
        values[n - 1] = std::numeric_limits<float>::quiet_NaN();
        values[n / 2] = -0.f;
      }
      const auto indices = scanned(values);
      CHECK(indices == plain_nonzero_indices(values));
      if (n > 2) CHECK(indices.back() == n - 1);
    }
  }
}

}  // namespace
}  // namespace rl
