// Where the nonzero entries of a mostly-zero input are: the positions a sparse layer (the conv
// torso's convolution over MinAtar frames) has to visit. AVX-512 compares 64 bytes or 16 floats
// at a time where the CPU has it; a plain loop elsewhere. Same results either way.
#pragma once

#include <cstdint>

namespace rl::nn {

// Writes the indices i in [0, n) with values[i] != 0 into indices, in increasing order, and
// returns how many there are. indices must have room for n entries. For floats, NaN counts as
// nonzero and -0 as zero (as values[i] != 0 says).
int64_t nonzero_indices(const uint8_t* values, int64_t n, int32_t* indices);
int64_t nonzero_indices(const float* values, int64_t n, int32_t* indices);

}  // namespace rl::nn
