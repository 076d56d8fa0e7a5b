// The two matrix products of a dense layer's backward pass when the batch is short, as direct
// AVX-512 kernels: each output element is one fused multiply-add chain over the short dimension
// in index order, with no packing of the long operands. That is also how OpenBLAS's kernels sum
// when the reduced dimension fits one of its blocks, so on the machines measured the results were
// bit for bit OpenBLAS's (tests/agents/gradient_products_test.cpp compares them with a plain
// reference, and with sgemm); without AVX-512 both functions call sgemm (blas.h).
//
// Layout of the layer: y^T [outputs, batch] = W [outputs, inputs] x^T, with x [batch, inputs].
#pragma once

#include <cstdint>

namespace rl::nn {

// Whether the AVX-512 kernels run (else the functions below call sgemm).
bool gradient_product_kernels_available();

// weight_gradient[o, i] = sum over b of output_gradient_t[o, b] * inputs[b, i] (overwritten):
// dW = dy^T x for output_gradient_t [outputs, batch] and inputs [batch, input_size].
void dense_weight_gradient(const float* output_gradient_t, int64_t outputs, int batch,
                           const float* inputs, int64_t input_size, float* weight_gradient);

// input_gradient[b, i] = sum over o of output_gradient_t[o, b] * weight[o, i] (overwritten):
// dx = dy W for output_gradient_t [outputs, batch] and weight [outputs, input_size].
void dense_input_gradient(const float* output_gradient_t, int64_t outputs, int batch,
                          const float* weight, int64_t input_size, float* input_gradient);

}  // namespace rl::nn
