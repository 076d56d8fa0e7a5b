#include "core/spaces.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace rl {

size_t dtype_size(DType dtype) { return dtype == DType::kU8 ? 1 : 4; }

const char* dtype_name(DType dtype) { return dtype == DType::kU8 ? "u8" : "f32"; }

Space Space::discrete(int64_t n) {
  if (n <= 0) throw std::invalid_argument("Discrete space needs n > 0, got " + std::to_string(n));
  Space s;
  s.kind = Kind::kDiscrete;
  s.n = n;
  return s;
}

Space Space::box(std::vector<int64_t> shape, float low, float high, DType dtype) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return box(std::move(shape), std::vector<float>(count, low), std::vector<float>(count, high),
             dtype);
}

Space Space::box(std::vector<int64_t> shape, std::vector<float> low, std::vector<float> high,
                 DType dtype) {
  Space s;
  s.kind = Kind::kBox;
  s.shape = std::move(shape);
  s.dtype = dtype;
  for (int64_t d : s.shape)
    if (d <= 0) throw std::invalid_argument("Box shape dimensions must be positive");
  if (static_cast<int64_t>(low.size()) != s.numel() ||
      static_cast<int64_t>(high.size()) != s.numel())
    throw std::invalid_argument("Box bounds must have one entry per element");
  for (size_t i = 0; i < low.size(); ++i)
    if (low[i] > high[i]) throw std::invalid_argument("Box bound low > high");
  s.low = std::move(low);
  s.high = std::move(high);
  return s;
}

int64_t Space::numel() const {
  if (is_discrete()) return 1;
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return count;
}

size_t Space::bytes() const { return is_discrete() ? 0 : numel() * dtype_size(dtype); }

std::string Space::describe() const {
  std::ostringstream out;
  if (is_discrete()) {
    out << "Discrete(" << n << ")";
    return out.str();
  }
  out << "Box(" << dtype_name(dtype) << ", [";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? "," : "") << shape[i];
  out << "]";
  if (!low.empty()) {
    auto [lo_min, lo_max] = std::minmax_element(low.begin(), low.end());
    auto [hi_min, hi_max] = std::minmax_element(high.begin(), high.end());
    out << ", " << *lo_min << (*lo_min == *lo_max ? "" : "..") << ".." << *hi_max;
    (void)hi_min;
  }
  out << ")";
  return out.str();
}

}  // namespace rl

namespace rl {
int64_t sample_space(const Space& space, Rng& rng, std::vector<float>& values) {
  if (space.is_discrete()) return static_cast<int64_t>(rng.below(space.n));
  values.resize(space.numel());
  for (size_t i = 0; i < values.size(); ++i) {
    const float lo = space.low[i], hi = space.high[i];
    if (std::isfinite(lo) && std::isfinite(hi))
      values[i] = static_cast<float>(rng.uniform(lo, hi));
    else
      values[i] = static_cast<float>(rng.normal());
    if (space.dtype == DType::kU8) values[i] = std::floor(values[i]);
  }
  return 0;
}
}  // namespace rl
