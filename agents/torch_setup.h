// Process-wide LibTorch settings: thread counts and which BLAS library is in use.
#pragma once

#include <string>

namespace rl {

// Sets LibTorch's intra-op threads and, when OpenBLAS is the loaded BLAS, its own thread
// pool to `threads`. OpenBLAS's pool is separate from LibTorch's OpenMP one; left at its
// default (all cores) it spins against LibTorch on small matrices (measured here: 64 s of
// training became 23 s with both at 1 thread).
void set_compute_threads(int threads);

// The BLAS implementation LibTorch is running on, e.g. "OpenBLAS 0.3.21 ... (4 threads)", or
// "reference BLAS (slow: install libopenblas0-pthread)" when OpenBLAS is not loaded.
std::string blas_description();

}  // namespace rl
