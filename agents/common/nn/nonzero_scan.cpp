#include "agents/common/nn/nonzero_scan.h"

#include <algorithm>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define RLCADE_NONZERO_SCAN_AVX512 1
#endif

namespace rl::nn {

namespace {

// Appends i0 + the position of every set bit of `bits`, lowest first.
inline int64_t append_set_bits(uint64_t bits, int64_t i0, int32_t* indices, int64_t count) {
  while (bits != 0) {
    indices[count++] = static_cast<int32_t>(i0 + __builtin_ctzll(bits));
    bits &= bits - 1;
  }
  return count;
}

template <typename Value>
int64_t nonzero_indices_plain(const Value* values, int64_t n, int32_t* indices) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (values[i] != 0) indices[count++] = static_cast<int32_t>(i);
  }
  return count;
}

#ifdef RLCADE_NONZERO_SCAN_AVX512

__attribute__((target("avx512f,avx512bw"))) int64_t nonzero_bytes_avx512(const uint8_t* values,
                                                                         int64_t n,
                                                                         int32_t* indices) {
  int64_t count = 0;
  for (int64_t i0 = 0; i0 < n; i0 += 64) {
    const int64_t lanes = std::min<int64_t>(64, n - i0);
    const __mmask64 in_range = lanes == 64 ? ~0ull : (1ull << lanes) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(in_range, values + i0);
    count = append_set_bits(_mm512_test_epi8_mask(x, x), i0, indices, count);
  }
  return count;
}

__attribute__((target("avx512f"))) int64_t nonzero_floats_avx512(const float* values, int64_t n,
                                                                 int32_t* indices) {
  int64_t count = 0;
  for (int64_t i0 = 0; i0 < n; i0 += 16) {
    const int64_t lanes = std::min<int64_t>(16, n - i0);
    const __mmask16 in_range = static_cast<__mmask16>(lanes == 16 ? 0xFFFF : (1u << lanes) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(in_range, values + i0);
    // Unordered not-equal: NaN is nonzero; -0 equals 0. Lanes past n load as 0.
    const __mmask16 nonzero = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    count = append_set_bits(nonzero, i0, indices, count);
  }
  return count;
}

bool has_avx512_bytes() {
  static const bool supported =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return supported;
}

bool has_avx512_floats() {
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported;
}

#endif

}  // namespace

int64_t nonzero_indices(const uint8_t* values, int64_t n, int32_t* indices) {
#ifdef RLCADE_NONZERO_SCAN_AVX512
  if (has_avx512_bytes()) return nonzero_bytes_avx512(values, n, indices);
#endif
  return nonzero_indices_plain(values, n, indices);
}

int64_t nonzero_indices(const float* values, int64_t n, int32_t* indices) {
#ifdef RLCADE_NONZERO_SCAN_AVX512
  if (has_avx512_floats()) return nonzero_floats_avx512(values, n, indices);
#endif
  return nonzero_indices_plain(values, n, indices);
}

}  // namespace rl::nn
