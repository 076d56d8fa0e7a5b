// Observation and action spaces as plain data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rl {

enum class DType : uint8_t { kU8, kF32 };

// Bytes per element of `dtype`.
size_t dtype_size(DType dtype);
// "u8" or "f32".
const char* dtype_name(DType dtype);

// A space is either Discrete(n) (actions 0..n-1) or a Box of `shape` with per-element
// bounds `low`/`high` (size == numel()) and element type `dtype`.
struct Space {
  enum class Kind : uint8_t { kDiscrete, kBox };

  Kind kind = Kind::kDiscrete;
  int64_t n = 0;               // Discrete only: number of actions.
  std::vector<int64_t> shape;  // Box only.
  std::vector<float> low;      // Box only, one bound per element.
  std::vector<float> high;     // Box only, one bound per element.
  DType dtype = DType::kF32;   // Box element type; Discrete actions are integers.

  static Space discrete(int64_t n);
  // Box with the same bounds for every element.
  static Space box(std::vector<int64_t> shape, float low, float high, DType dtype);
  // Box with per-element bounds; sizes must match the element count.
  static Space box(std::vector<int64_t> shape, std::vector<float> low, std::vector<float> high,
                   DType dtype);

  bool is_discrete() const { return kind == Kind::kDiscrete; }
  // Number of elements (1 for Discrete).
  int64_t numel() const;
  // Bytes needed to hold one sample of a Box (0 for Discrete).
  size_t bytes() const;
  // Human-readable form, e.g. "Discrete(2)" or "Box(u8, [4,10,10], 0..1)".
  std::string describe() const;
  bool operator==(const Space& other) const = default;
};

}  // namespace rl

#include "core/rng.h"

namespace rl {
// Draws a uniformly random element of a Discrete space (returned) or of a bounded Box space
// (written into `values`, resized to numel; unbounded dimensions draw from N(0, 1)).
int64_t sample_space(const Space& space, Rng& rng, std::vector<float>& values);
}  // namespace rl
