// Single-precision matrix products through the BLAS that LibTorch itself loads (OpenBLAS on
// Debian with libopenblas0-pthread, else the reference BLAS), found at run time with dlsym so
// no BLAS development package or header is needed at build time.
#pragma once

namespace rl {

// Whether a BLAS sgemm is loaded in this process.
bool blas_available();

// Row-major C[m, n] = alpha * op(A) op(B) + beta * C, where op(A) is [m, k] (A^T when
// `transpose_a`) and op(B) is [k, n] (B^T when `transpose_b`); lda, ldb and ldc are the row
// strides of A, B and C as stored. Throws std::runtime_error when !blas_available().
void sgemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a,
           int lda, const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace rl
