#include "agents/common/nn/blas.h"

#include <dlfcn.h>

#include <cstddef>
#include <stdexcept>

namespace rl {

namespace {

// The Fortran BLAS entry point (column-major), with the hidden lengths of the two character
// arguments that gfortran-built libraries expect; C implementations ignore them.
using FortranSgemm = void (*)(const char* transa, const char* transb, const int* m, const int* n,
                              const int* k, const float* alpha, const float* a, const int* lda,
                              const float* b, const int* ldb, const float* beta, float* c,
                              const int* ldc, size_t transa_length, size_t transb_length);

FortranSgemm loaded_sgemm() {
  static const FortranSgemm sgemm = reinterpret_cast<FortranSgemm>(::dlsym(RTLD_DEFAULT, "sgemm_"));
  return sgemm;
}

}  // namespace

bool blas_available() { return loaded_sgemm() != nullptr; }

void sgemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a,
           int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  const FortranSgemm fortran_sgemm = loaded_sgemm();
  if (!fortran_sgemm) throw std::runtime_error("no BLAS sgemm is loaded in this process");
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same buffers with
  // the operands swapped.
  const char trans_a = transpose_a ? 'T' : 'N';
  const char trans_b = transpose_b ? 'T' : 'N';
  fortran_sgemm(&trans_b, &trans_a, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc, 1, 1);
}

}  // namespace rl
