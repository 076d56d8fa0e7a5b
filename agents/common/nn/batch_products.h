// The matrix products of a dense layer on a batch of a few dozen samples, as direct AVX-512
// kernels that read the long operands in place (no packing): the forward pass, the weight
// gradient and the input gradient. Each output element is a fused multiply-add chain in index
// order over the reduced dimension, restarted every 320 steps (split as OpenBLAS's level-3 driver
// splits its blocks) with the chains' totals added in turn. That is how OpenBLAS's AVX-512 kernels
// (SKYLAKEX/COOPERLAKE, which this machine's OpenBLAS 0.3.21 runs) sum, so here the results are
// bit for bit sgemm's; tests/agents/batch_products_test.cpp checks them against a plain
// reference. Without AVX-512 every function calls sgemm (blas.h).
//
// Layout of the layer: y^T [outputs, batch] = W [outputs, inputs] x^T, with x [batch, inputs].
#pragma once

#include <cstdint>

namespace rl::nn {

// Whether the AVX-512 kernels run (else the functions below call sgemm).
bool batch_product_kernels_available();

// outputs_t[o, b] = sum over i of weight[o, i] * inputs_t[i, b] (overwritten): y^T = W x^T for
// weight [outputs, input_size] and inputs_t [input_size, batch] (x transposed). The kernel works
// on 32 batch columns at a time: below 16 samples sgemm on x is the better choice.
void dense_forward_transposed(const float* weight, int64_t outputs, int64_t input_size,
                              const float* inputs_t, int batch, float* outputs_t);

// weight_gradient[o, i] = sum over b of output_gradient_t[o, b] * inputs[b, i] (overwritten):
// dW = dy^T x for output_gradient_t [outputs, batch] and inputs [batch, input_size].
void dense_weight_gradient(const float* output_gradient_t, int64_t outputs, int batch,
                           const float* inputs, int64_t input_size, float* weight_gradient);

// The same from the inputs transposed, inputs_t [input_size, batch] (what
// dense_forward_transposed() took), with the same sums.
void dense_weight_gradient_transposed_inputs(const float* output_gradient_t, int64_t outputs,
                                             int batch, const float* inputs_t, int64_t input_size,
                                             float* weight_gradient);

// input_gradient[b, i] = sum over o of output_gradient_t[o, b] * weight[o, i] (overwritten):
// dx = dy W for output_gradient_t [outputs, batch] and weight [outputs, input_size].
void dense_input_gradient(const float* output_gradient_t, int64_t outputs, int batch,
                          const float* weight, int64_t input_size, float* input_gradient);

// out[c, r] = in[r, c] for in [rows, columns] row-major: a batch of inputs transposed for
// dense_forward_transposed().
void transpose(const float* in, int64_t rows, int64_t columns, float* out);
// The same between strided matrices: out[c * out_stride + r] = in[r * in_stride + c] for r in
// [0, rows), c in [0, columns); nothing else of out is written.
void transpose(const float* in, int64_t in_stride, int64_t rows, int64_t columns, float* out,
               int64_t out_stride);

}  // namespace rl::nn
