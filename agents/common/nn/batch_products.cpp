#include "agents/common/nn/batch_products.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "agents/common/nn/blas.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define RLCADE_BATCH_PRODUCTS_AVX512 1
#endif

namespace rl::nn {

namespace {

#ifdef RLCADE_BATCH_PRODUCTS_AVX512

// The row operand of a product: element (row r, step s) at data[r * row_stride + s * step_stride].
struct StridedRows {
  const float* data;
  int64_t row_stride, step_stride;
};

constexpr int kPanelWidth = 32;  // Columns per panel: two AVX-512 registers.
constexpr int kTileRows = 8;     // Rows per tile: 16 accumulators.

__attribute__((target("avx512f"))) inline __mmask16 lane_mask(int lanes) {
  if (lanes >= 16) return static_cast<__mmask16>(0xFFFF);
  if (lanes <= 0) return 0;
  return static_cast<__mmask16>((1u << lanes) - 1u);
}

// Steps summed in one chain before the chain's total is added to the result: OpenBLAS's block of
// the reduced dimension for this kernel family (SGEMM_DEFAULT_Q of SKYLAKEX/COOPERLAKE), split
// the way its level-3 driver splits it, so that long sums round as its sums do.
constexpr int kChainSteps = 320;
constexpr int kChainRounding = 16;

int chain_length(int remaining) {
  if (remaining >= 2 * kChainSteps) return kChainSteps;
  if (remaining <= kChainSteps) return remaining;
  return (remaining / 2 + kChainRounding - 1) / kChainRounding * kChainRounding;
}

// c[r, 0..width) for r in [0, Rows) = sum over the listed steps s of rows(r, s) * v[s, 0..width):
// per element, fused multiply-add chains in step order over blocks of chain_length() steps of
// [0, steps), each chain's total added to the result in turn; v's rows are ldv floats apart. The
// steps left out of `active` (ascending) must have only zero terms: a zero term changes no sum
// (a chain starts at +0 and x + (+-0) = x), so the results are those of every step.
template <int Rows>
__attribute__((target("avx512f"))) void product_tile(StridedRows rows, const int32_t* active,
                                                     int active_count, int steps, const float* v,
                                                     int64_t ldv, int width, float* c,
                                                     int64_t ldc) {
  const __mmask16 low_mask = lane_mask(width), high_mask = lane_mask(width - 16);
  __m512 low[Rows], high[Rows], total_low[Rows], total_high[Rows];
  for (int i = 0; i < Rows; ++i) total_low[i] = total_high[i] = _mm512_setzero_ps();
  const int32_t* next = active;
  const int32_t* const last = active + active_count;
  for (int first = 0; first < steps;) {
    const int end = first + chain_length(steps - first);
    const int32_t* const chain_last = std::lower_bound(next, last, end);
    for (int i = 0; i < Rows; ++i) low[i] = high[i] = _mm512_setzero_ps();
    for (; next < chain_last; ++next) {
      const int64_t s = *next;
      const __m512 v_low = _mm512_maskz_loadu_ps(low_mask, v + s * ldv);
      const __m512 v_high = _mm512_maskz_loadu_ps(high_mask, v + s * ldv + 16);
      const float* column = rows.data + s * rows.step_stride;
      for (int i = 0; i < Rows; ++i) {
        const __m512 scalar = _mm512_set1_ps(column[i * rows.row_stride]);
        low[i] = _mm512_fmadd_ps(scalar, v_low, low[i]);
        high[i] = _mm512_fmadd_ps(scalar, v_high, high[i]);
      }
    }
    for (int i = 0; i < Rows; ++i) {
      total_low[i] = _mm512_add_ps(total_low[i], low[i]);
      total_high[i] = _mm512_add_ps(total_high[i], high[i]);
    }
    first = end;
  }
  for (int i = 0; i < Rows; ++i) {
    _mm512_mask_storeu_ps(c + i * ldc, low_mask, total_low[i]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, high_mask, total_high[i]);
  }
}

template <int Rows>
__attribute__((target("avx512f"))) void product_rows(StridedRows rows, int row_count,
                                                     const int32_t* active, int active_count,
                                                     int steps, const float* v, int64_t ldv,
                                                     int width, float* c, int64_t ldc) {
  if constexpr (Rows > 0) {
    if (row_count == Rows) {
      return product_tile<Rows>(rows, active, active_count, steps, v, ldv, width, c, ldc);
    }
    product_rows<Rows - 1>(rows, row_count, active, active_count, steps, v, ldv, width, c, ldc);
  }
}

// How strided_product reads v. kInPlace: v [steps, columns] as it is. kCopy: each panel of v
// first copied into contiguous memory, worth it when v's rows are a multiple of 4 kB apart
// (which would put every row of a panel in the same L1 cache set). kTranspose: v given
// transposed, [columns, steps] with rows ldv apart, each panel transposed into contiguous memory.
enum class Panels { kInPlace, kCopy, kTranspose };

// Which zeros strided_product looks for to skip steps (ReLU layers leave many): a step is skipped
// in a tile when its scalars of the tile's rows are all zero (in_rows), or when its row of v's
// panel is all zero (in_panels). Weights seldom hold zeros: not worth looking.
struct SkipZeros {
  bool in_rows, in_panels;
};

// Steps are grouped by 16, one bit a step (one AVX-512 register of 32-bit lanes).
constexpr int kGroupSteps = 16;

int step_groups(int steps) { return (steps + kGroupSteps - 1) / kGroupSteps; }

// Whether x is nonzero (-0 counts as zero), as a sign-free bit pattern test.
inline bool nonzero(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return (bits << 1) != 0;
}

// masks[g] bit k: whether step 16 g + k has a nonzero scalar among rows [0, row_count) (at most
// 16 rows).
__attribute__((target("avx512f"))) void row_step_masks(StridedRows rows, int row_count, int steps,
                                                       uint16_t* masks) {
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  for (int g = 0; g < step_groups(steps); ++g) {
    const int first = g * kGroupSteps, count = std::min(kGroupSteps, steps - first);
    uint32_t mask = 0;
    if (rows.step_stride == 1) {  // 16 steps of a row in one register, the rows or'ed.
      __m512i any = _mm512_setzero_si512();
      for (int i = 0; i < row_count; ++i) {
        any = _mm512_or_si512(any, _mm512_castps_si512(_mm512_maskz_loadu_ps(
                                       lane_mask(count), rows.data + i * rows.row_stride + first)));
      }
      mask = _mm512_test_epi32_mask(any, magnitude);
    } else if (rows.row_stride == 1) {  // A step's rows in one register.
      for (int k = 0; k < count; ++k) {
        const __m512i step = _mm512_castps_si512(_mm512_maskz_loadu_ps(
            lane_mask(row_count), rows.data + (first + k) * rows.step_stride));
        mask |= static_cast<uint32_t>(_mm512_test_epi32_mask(step, magnitude) != 0) << k;
      }
    } else {
      for (int k = 0; k < count; ++k) {
        bool any = false;
        for (int i = 0; i < row_count; ++i) {
          any |= nonzero(rows.data[i * rows.row_stride + (first + k) * rows.step_stride]);
        }
        mask |= static_cast<uint32_t>(any) << k;
      }
    }
    masks[g] = static_cast<uint16_t>(mask);
  }
}

// masks[g] bit k: whether row 16 g + k of the panel (v's rows ldv apart, `width` columns) has a
// nonzero entry.
__attribute__((target("avx512f"))) void panel_step_masks(const float* v, int64_t ldv, int width,
                                                         int steps, uint16_t* masks) {
  const __mmask16 low_mask = lane_mask(width), high_mask = lane_mask(width - 16);
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  for (int g = 0; g < step_groups(steps); ++g) {
    const int first = g * kGroupSteps, count = std::min(kGroupSteps, steps - first);
    uint32_t mask = 0;
    for (int k = 0; k < count; ++k) {
      const float* row = v + (first + k) * ldv;
      const __m512i both =
          _mm512_or_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(low_mask, row)),
                          _mm512_castps_si512(_mm512_maskz_loadu_ps(high_mask, row + 16)));
      mask |= static_cast<uint32_t>(_mm512_test_epi32_mask(both, magnitude) != 0) << k;
    }
    masks[g] = static_cast<uint16_t>(mask);
  }
}

// Writes the steps whose bits are set in both masks (either may be null: every step) to
// `active`, ascending, and returns their count; `active` holds step_groups(steps) * 16 entries.
__attribute__((target("avx512f"))) int list_active_steps(const uint16_t* row_masks,
                                                         const uint16_t* panel_masks, int steps,
                                                         int32_t* active) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int count = 0;
  for (int g = 0; g < step_groups(steps); ++g) {
    __mmask16 mask = lane_mask(steps - g * kGroupSteps);
    if (row_masks) mask &= row_masks[g];
    if (panel_masks) mask &= panel_masks[g];
    const __m512i indices = _mm512_add_epi32(lane, _mm512_set1_epi32(g * kGroupSteps));
    // The register form of the compress (the memory form is slow on Zen 4), stored whole.
    _mm512_storeu_si512(active + count, _mm512_maskz_compress_epi32(mask, indices));
    count += __builtin_popcount(mask);
  }
  return count;
}

// c [row_count, columns] = rows [row_count, steps] x v [steps, columns] (row strides ldv, ldc),
// kPanelWidth columns at a time, tiles of kTileRows rows, skipping steps of zeros as `skip` says.
__attribute__((target("avx512f"))) void strided_product(StridedRows rows, int64_t row_count,
                                                        int steps, const float* v, int64_t ldv,
                                                        int64_t columns, float* c, int64_t ldc,
                                                        Panels panels, SkipZeros skip) {
  thread_local std::vector<float> panel;
  thread_local std::vector<uint16_t> row_masks, panel_masks;
  thread_local std::vector<int32_t> active;
  const bool pack = panels != Panels::kInPlace;
  const int groups = step_groups(steps);
  const int64_t tiles = (row_count + kTileRows - 1) / kTileRows;
  if (pack) panel.resize(std::max<size_t>(panel.size(), static_cast<size_t>(steps) * kPanelWidth));
  active.resize(std::max<size_t>(active.size(), static_cast<size_t>(groups) * kGroupSteps));
  panel_masks.resize(std::max<size_t>(panel_masks.size(), static_cast<size_t>(groups)));
  if (skip.in_rows) {
    row_masks.resize(std::max<size_t>(row_masks.size(), static_cast<size_t>(tiles * groups)));
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t r0 = t * kTileRows;
      row_step_masks({rows.data + r0 * rows.row_stride, rows.row_stride, rows.step_stride},
                     static_cast<int>(std::min<int64_t>(kTileRows, row_count - r0)), steps,
                     row_masks.data() + t * groups);
    }
  }
  for (int64_t c0 = 0; c0 < columns; c0 += kPanelWidth) {
    const int width = static_cast<int>(std::min<int64_t>(kPanelWidth, columns - c0));
    const float* block = v + c0;
    int64_t block_stride = ldv;
    if (panels == Panels::kTranspose) {
      transpose(v + c0 * ldv, ldv, width, steps, panel.data(), kPanelWidth);
      block = panel.data();
      block_stride = kPanelWidth;
    } else if (pack) {
      const __mmask16 low_mask = lane_mask(width), high_mask = lane_mask(width - 16);
      for (int s = 0; s < steps; ++s) {
        const float* source = v + s * ldv + c0;
        _mm512_storeu_ps(panel.data() + s * kPanelWidth, _mm512_maskz_loadu_ps(low_mask, source));
        _mm512_storeu_ps(panel.data() + s * kPanelWidth + 16,
                         _mm512_maskz_loadu_ps(high_mask, source + 16));
      }
      block = panel.data();
      block_stride = kPanelWidth;
    }
    if (skip.in_panels) panel_step_masks(block, block_stride, width, steps, panel_masks.data());
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t r0 = t * kTileRows;
      const int active_count =
          list_active_steps(skip.in_rows ? row_masks.data() + t * groups : nullptr,
                            skip.in_panels ? panel_masks.data() : nullptr, steps, active.data());
      const StridedRows tile_rows{rows.data + r0 * rows.row_stride, rows.row_stride,
                                  rows.step_stride};
      product_rows<kTileRows>(
          tile_rows, static_cast<int>(std::min<int64_t>(kTileRows, row_count - r0)), active.data(),
          active_count, steps, block, block_stride, width, c + r0 * ldc + c0, ldc);
    }
  }
}

// The low (or high) 64-bit halves of each 128-bit lane of a and b, interleaved.
__attribute__((target("avx512f"))) inline __m512 interleave_pairs(__m512 a, __m512 b, bool high) {
  const __m512d x = _mm512_castps_pd(a), y = _mm512_castps_pd(b);
  return _mm512_castpd_ps(high ? _mm512_unpackhi_pd(x, y) : _mm512_unpacklo_pd(x, y));
}

// out[j * ldo + i] = in[i * ldi + j] for i, j in [0, 16): three rounds of shuffles within and
// across the 128-bit lanes.
__attribute__((target("avx512f"))) void transpose_16x16(const float* in, int64_t ldi, float* out,
                                                        int64_t ldo) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(in + i * ldi);
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = interleave_pairs(t[i], t[i + 2], false);
    r[i + 1] = interleave_pairs(t[i], t[i + 2], true);
    r[i + 2] = interleave_pairs(t[i + 1], t[i + 3], false);
    r[i + 3] = interleave_pairs(t[i + 1], t[i + 3], true);
  }
  for (int i = 0; i < 16; i += 8) {
    for (int k = 0; k < 4; ++k) {
      t[i + k] = _mm512_shuffle_f32x4(r[i + k], r[i + k + 4], 0x88);
      t[i + k + 4] = _mm512_shuffle_f32x4(r[i + k], r[i + k + 4], 0xdd);
    }
  }
  for (int k = 0; k < 8; ++k) {
    _mm512_storeu_ps(out + k * ldo, _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88));
    _mm512_storeu_ps(out + (k + 8) * ldo, _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd));
  }
}

bool has_avx512() {
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported;
}

#endif

}  // namespace

bool batch_product_kernels_available() {
#ifdef RLCADE_BATCH_PRODUCTS_AVX512
  return has_avx512();
#else
  return false;
#endif
}

void dense_forward_transposed(const float* weight, int64_t outputs, int64_t input_size,
                              const float* inputs_t, int batch, float* outputs_t) {
#ifdef RLCADE_BATCH_PRODUCTS_AVX512
  if (has_avx512()) {
    // Rows: outputs, steps: the inputs (contiguous in the weight's rows), columns: the batch.
    strided_product({weight, input_size, 1}, outputs, static_cast<int>(input_size), inputs_t, batch,
                    batch, outputs_t, batch, Panels::kInPlace, {false, true});
    return;
  }
#endif
  sgemm(false, false, static_cast<int>(outputs), batch, static_cast<int>(input_size), 1.f, weight,
        static_cast<int>(input_size), inputs_t, batch, 0.f, outputs_t, batch);
}

void dense_weight_gradient(const float* output_gradient_t, int64_t outputs, int batch,
                           const float* inputs, int64_t input_size, float* weight_gradient) {
#ifdef RLCADE_BATCH_PRODUCTS_AVX512
  if (has_avx512()) {
    // Rows: outputs, steps: the batch (contiguous in output_gradient_t's rows).
    strided_product({output_gradient_t, batch, 1}, outputs, batch, inputs, input_size, input_size,
                    weight_gradient, input_size, Panels::kCopy, {true, true});
    return;
  }
#endif
  sgemm(false, false, static_cast<int>(outputs), static_cast<int>(input_size), batch, 1.f,
        output_gradient_t, batch, inputs, static_cast<int>(input_size), 0.f, weight_gradient,
        static_cast<int>(input_size));
}

void dense_weight_gradient_transposed_inputs(const float* output_gradient_t, int64_t outputs,
                                             int batch, const float* inputs_t, int64_t input_size,
                                             float* weight_gradient) {
#ifdef RLCADE_BATCH_PRODUCTS_AVX512
  if (has_avx512()) {
    strided_product({output_gradient_t, batch, 1}, outputs, batch, inputs_t, batch, input_size,
                    weight_gradient, input_size, Panels::kTranspose, {true, true});
    return;
  }
#endif
  sgemm(false, true, static_cast<int>(outputs), static_cast<int>(input_size), batch, 1.f,
        output_gradient_t, batch, inputs_t, batch, 0.f, weight_gradient,
        static_cast<int>(input_size));
}

void dense_input_gradient(const float* output_gradient_t, int64_t outputs, int batch,
                          const float* weight, int64_t input_size, float* input_gradient) {
#ifdef RLCADE_BATCH_PRODUCTS_AVX512
  if (has_avx512()) {
    // Rows: the batch (contiguous down output_gradient_t's columns), steps: outputs.
    strided_product({output_gradient_t, 1, batch}, batch, static_cast<int>(outputs), weight,
                    input_size, input_size, input_gradient, input_size, Panels::kCopy,
                    {true, false});
    return;
  }
#endif
  sgemm(true, false, batch, static_cast<int>(input_size), static_cast<int>(outputs), 1.f,
        output_gradient_t, batch, weight, static_cast<int>(input_size), 0.f, input_gradient,
        static_cast<int>(input_size));
}

void transpose(const float* in, int64_t rows, int64_t columns, float* out) {
  transpose(in, columns, rows, columns, out, rows);
}

void transpose(const float* in, int64_t in_stride, int64_t rows, int64_t columns, float* out,
               int64_t out_stride) {
  int64_t full_rows = 0, full_columns = 0;
#ifdef RLCADE_BATCH_PRODUCTS_AVX512
  if (has_avx512()) {
    full_rows = rows / 16 * 16;
    full_columns = columns / 16 * 16;
    for (int64_t c0 = 0; c0 < full_columns; c0 += 16) {
      for (int64_t r0 = 0; r0 < full_rows; r0 += 16) {
        transpose_16x16(in + r0 * in_stride + c0, in_stride, out + c0 * out_stride + r0,
                        out_stride);
      }
    }
  }
#endif
  // What the blocks left (everything without AVX-512): 16 columns (a cache line of each row) at
  // a time, so that the rows read and the rows written stay in the L1 cache.
  for (int64_t c0 = 0; c0 < columns; c0 += 16) {
    const int64_t c_end = std::min(c0 + 16, columns);
    for (int64_t r = c0 < full_columns ? full_rows : 0; r < rows; ++r) {
      for (int64_t c = c0; c < c_end; ++c) out[c * out_stride + r] = in[r * in_stride + c];
    }
  }
}

}  // namespace rl::nn
