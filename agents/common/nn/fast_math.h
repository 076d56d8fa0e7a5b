// Element-wise exp and tanh that the compiler can vectorize (no library calls, no branches),
// for the hot loops of the small-network engine: glibc's scalar tanhf was more than half of a
// PPO run with 32x32 tanh MLPs. Accuracy: exp within ~2e-7 relative, tanh within ~3e-7
// absolute, over the whole float range (saturating where float does); rational_tanh within
// ~2.2e-7 absolute and 1.6e-7 relative near 0, at about half fast_tanh's cost.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace rl::nn {

// e^x for x in float range (clamped to [-87, 88], where e^x stays a normal float).
inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2High = 0.693359375f;  // ln 2 split so n * kLn2High is exact.
  constexpr float kLn2Low = -2.12194440e-4f;
  x = std::clamp(x, -87.f, 88.f);
  // n = round(x log2 e): adding and subtracting 1.5 * 2^23 rounds to an integer (std::floor and
  // std::nearbyint keep GCC from vectorizing).
  constexpr float kRounder = 12582912.f;
  const float n = (x * kLog2e + kRounder) - kRounder;
  const float r = x - n * kLn2High - n * kLn2Low;  // |r| <= ln(2) / 2
  // Taylor series of e^r to degree 7.
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  return p * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);  // p 2^n
}

// tanh(x): (1 - e^-2|x|) / (1 + e^-2|x|) with the sign of x, and an odd Taylor polynomial near
// 0 where that quotient would lose relative precision.
inline float fast_tanh(float x) {
  const float a = std::abs(x);
  const float e = fast_exp(-2.f * a);
  const float far = (1.f - e) / (1.f + e);
  const float a2 = a * a;
  // a - a^3/3 + 2a^5/15 - 17a^7/315, error below 1e-9 for a < 0.125.
  const float near = a * (1.f + a2 * (-1.f / 3.f + a2 * (2.f / 15.f + a2 * (-17.f / 315.f))));
  // The sign bit of x on |tanh(x)| (std::copysign keeps GCC from vectorizing).
  const uint32_t sign = std::bit_cast<uint32_t>(x) & 0x80000000u;
  return std::bit_cast<float>(std::bit_cast<uint32_t>(a < 0.125f ? near : far) | sign);
}

// tanh(x) as x P(x^2) / Q(x^2) with P of degree 6 and Q of degree 3 (P(0) = Q(0) = 1, so tiny x
// come back unchanged), on x clamped to [-9.5, 9.5], where tanh rounds to +-1 in float. The
// result is clamped to [-1, 1]. The coefficients were fitted here to tanh on [0, 9.5] by least
// squares on the linearized error x P - tanh(x) Q, reweighted towards the largest errors
// (Sanathanan-Koerner iterations with Lawson weights, 40-digit arithmetic; the script:
// tests/agents/ppo_tanh_fit.py 9.5 6 3): about 1e-8 before float rounding. Fewer operations than
// fast_tanh (no exponent assembly, no second polynomial for small x) and one division; the
// small-network engine's dense layers use it (results differ from fast_tanh's in the last bits).
inline float rational_tanh(float x) {
  x = std::clamp(x, -9.5f, 9.5f);
  const float t = x * x;
  float p = -7.24129395625e-14f;
  p = p * t + 4.78228878056e-11f;
  p = p * t + -1.91795030347e-8f;
  p = p * t + 1.08938256405e-5f;
  p = p * t + 3.07892114077e-3f;
  p = p * t + 0.130615647378f;
  p = p * t + 1.f;
  float q = 2.50976288057e-4f;
  q = q * t + 2.4395373904e-2f;
  q = q * t + 0.463948885514f;
  q = q * t + 1.f;
  // The quotient can round one step above 1 near the clamp: tanh never does.
  return std::clamp(x * p / q, -1.f, 1.f);
}

}  // namespace rl::nn
