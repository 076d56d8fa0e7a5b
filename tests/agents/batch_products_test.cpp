#include "agents/common/nn/batch_products.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <random>
#include <vector>

#include "agents/common/nn/blas.h"

namespace rl {
namespace {

std::vector<float> random_values(size_t n, std::mt19937& rng, double zero_fraction) {
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<double> uniform(0., 1.);
  std::vector<float> values(n);
  for (float& v : values) v = uniform(rng) < zero_fraction ? 0.f : normal(rng);
  return values;
}

// The kernels' chain lengths over `steps` (batch_products.h): 320 while at least 640 remain,
// then the rest in two halves rounded up to 16, or whole when at most 320.
std::vector<int64_t> chain_ends(int64_t steps) {
  std::vector<int64_t> ends;
  for (int64_t first = 0; first < steps;) {
    const int64_t remaining = steps - first;
    const int64_t length = remaining >= 640   ? 320
                           : remaining <= 320 ? remaining
                                              : (remaining / 2 + 15) / 16 * 16;
    first += length;
    ends.push_back(first);
  }
  return ends;
}

// c[r, j] = sum over s of a(r, s) * v[s, j], plainly: as the kernels promise it (fused
// multiply-add chains in step order, restarted at chain_ends(), their totals added in turn), in
// double, and the sum of the terms' magnitudes (for the rounding tolerance).
struct Reference {
  std::vector<float> chain, wide, magnitude;
};

Reference reference_product(int64_t rows, int64_t steps, int64_t columns, auto&& a_of,
                            const std::vector<float>& v) {
  Reference c;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < columns; ++j) {
      float chain = 0.f, total = 0.f;
      double wide = 0., magnitude = 0.;
      const std::vector<int64_t> ends = chain_ends(steps);
      for (int64_t s = 0, next_end = 0; s < steps; ++s) {
        chain = std::fma(a_of(r, s), v[s * columns + j], chain);
        if (s + 1 == ends[next_end]) {
          total += chain;
          chain = 0.f;
          ++next_end;
        }
        wide += static_cast<double>(a_of(r, s)) * v[s * columns + j];
        magnitude += std::fabs(static_cast<double>(a_of(r, s)) * v[s * columns + j]);
      }
      c.chain.push_back(total);
      c.wide.push_back(static_cast<float>(wide));
      c.magnitude.push_back(static_cast<float>(magnitude * static_cast<double>(steps)));
    }
  }
  return c;
}

// Within float rounding of the double sum; bit for bit the fma chain when the kernels run.
void check_product(const std::vector<float>& actual, const Reference& expected) {
  REQUIRE(actual.size() == expected.wide.size());
  const bool exact = nn::batch_product_kernels_available();
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CHECK(std::fabs(actual[i] - expected.wide[i]) <= 1e-6f * expected.magnitude[i]);
    if (exact) CHECK(std::memcmp(&actual[i], &expected.chain[i], sizeof(float)) == 0);
  }
}

// A layer's shape: outputs x inputs, on a batch.
struct Shape {
  int outputs, batch, inputs;
};

// Calls check(shape) for every combination of the given sizes, naming the shape on failure.
void for_each_shape(std::initializer_list<int> outputs, std::initializer_list<int> batches,
                    std::initializer_list<int> inputs, auto&& check) {
  for (int o : outputs) {
    for (int b : batches) {
      for (int i : inputs) {
        CAPTURE(o);
        CAPTURE(b);
        CAPTURE(i);
        check(Shape{o, b, i});
      }
    }
  }
}

// Odd shapes: partial 8-row tiles, partial 32-column panels, single rows and steps.
const auto kOutputs = {1, 7, 8, 13, 20};
const auto kBatches = {1, 3, 9, 32};
const auto kInputs = {1, 5, 31, 33, 70};

size_t count(int rows, int columns) { return static_cast<size_t>(rows) * columns; }

TEST_CASE("batch_products: forward y^T = W x^T on odd shapes, long sums in several chains") {
  if (!blas_available() && !nn::batch_product_kernels_available()) return;
  std::mt19937 rng(4);
  // 641 inputs: chains of 320, 160 and 161; 1000: 320, 320, 192 and 168.
  for_each_shape({1, 9, 16}, {1, 17, 32, 40}, {3, 33, 641, 1000}, [&](Shape s) {
    const auto w = random_values(count(s.outputs, s.inputs), rng, 0.);
    const auto x_t = random_values(count(s.inputs, s.batch), rng, 0.3);
    std::vector<float> y_t(count(s.outputs, s.batch), 99.f);
    nn::dense_forward_transposed(w.data(), s.outputs, s.inputs, x_t.data(), s.batch, y_t.data());
    const auto a_of = [&](int64_t o, int64_t i) { return w[o * s.inputs + i]; };
    check_product(y_t, reference_product(s.outputs, s.inputs, s.batch, a_of, x_t));
  });
}

TEST_CASE("batch_products: weight gradient dW = dy^T x and input gradient dx = dy W, odd shapes") {
  if (!blas_available() && !nn::batch_product_kernels_available()) return;
  std::mt19937 rng(5);
  for (const bool weight_gradient : {true, false}) {
    CAPTURE(weight_gradient);
    for_each_shape(kOutputs, kBatches, kInputs, [&](Shape s) {
      const auto dy_t = random_values(count(s.outputs, s.batch), rng, 0.4);
      // dW: rows are outputs, steps the batch, v = x [batch, inputs] (with zeros, as after a
      // ReLU); dx: rows are the batch, steps outputs, v = W [outputs, inputs].
      const int rows = weight_gradient ? s.outputs : s.batch;
      const int steps = weight_gradient ? s.batch : s.outputs;
      const auto v = random_values(count(steps, s.inputs), rng, weight_gradient ? 0.3 : 0.);
      std::vector<float> out(count(rows, s.inputs), 99.f);
      if (weight_gradient) {
        nn::dense_weight_gradient(dy_t.data(), s.outputs, s.batch, v.data(), s.inputs, out.data());
      } else {
        nn::dense_input_gradient(dy_t.data(), s.outputs, s.batch, v.data(), s.inputs, out.data());
      }
      const auto a_of = [&](int64_t row, int64_t step) {
        return weight_gradient ? dy_t[row * s.batch + step] : dy_t[step * s.batch + row];
      };
      check_product(out, reference_product(rows, steps, s.inputs, a_of, v));
    });
  }
}

TEST_CASE("batch_products: weight gradient from the inputs transposed, odd shapes") {
  if (!blas_available() && !nn::batch_product_kernels_available()) return;
  std::mt19937 rng(6);
  for_each_shape(kOutputs, kBatches, kInputs, [&](Shape s) {
    const auto dy_t = random_values(count(s.outputs, s.batch), rng, 0.4);
    const auto x = random_values(count(s.batch, s.inputs), rng, 0.3);
    std::vector<float> x_t(x.size());
    for (int b = 0; b < s.batch; ++b) {
      for (int i = 0; i < s.inputs; ++i) x_t[i * s.batch + b] = x[b * s.inputs + i];
    }
    std::vector<float> out(count(s.outputs, s.inputs) + 1, 99.f);
    nn::dense_weight_gradient_transposed_inputs(dy_t.data(), s.outputs, s.batch, x_t.data(),
                                                s.inputs, out.data());
    CHECK(out.back() == 99.f);
    out.pop_back();
    const auto a_of = [&](int64_t row, int64_t step) { return dy_t[row * s.batch + step]; };
    check_product(out, reference_product(s.outputs, s.batch, s.inputs, a_of, x));
  });
}

// Zeroes the whole steps (rows of a [steps, width] matrix) whose index is 1 or 2 mod 5, and
// every entry of the rest with probability 0.2: what ReLU layers leave, whole zero steps included.
void zero_steps(std::vector<float>& values, int steps, int width, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(0., 1.);
  for (int s = 0; s < steps; ++s) {
    const bool whole = s % 5 == 1 || s % 5 == 2;
    for (int j = 0; j < width; ++j) {
      if (whole || uniform(rng) < 0.2) values[s * width + j] = 0.f;
    }
  }
}

TEST_CASE("batch_products: steps of zeros are skipped without changing a sum") {
  if (!blas_available() && !nn::batch_product_kernels_available()) return;
  std::mt19937 rng(8);
  // Long sums (several chains), partial tiles and panels; negative zeros among the zeros.
  for_each_shape({7, 20}, {17, 40}, {33, 700}, [&](Shape s) {
    auto w = random_values(count(s.outputs, s.inputs), rng, 0.);
    auto x_t = random_values(count(s.inputs, s.batch), rng, 0.);
    zero_steps(x_t, s.inputs, s.batch, rng);  // Forward: whole inputs zero over the batch.
    x_t[0] = -0.f;
    std::vector<float> y_t(count(s.outputs, s.batch), 99.f);
    nn::dense_forward_transposed(w.data(), s.outputs, s.inputs, x_t.data(), s.batch, y_t.data());
    check_product(y_t, reference_product(
                           s.outputs, s.inputs, s.batch,
                           [&](int64_t o, int64_t i) { return w[o * s.inputs + i]; }, x_t));

    // dy^T [outputs, batch] with whole outputs zero (dx's steps) and x [batch, inputs] with whole
    // samples zero (dW's steps), so both operands leave steps out.
    auto dy_t = random_values(count(s.outputs, s.batch), rng, 0.);
    zero_steps(dy_t, s.outputs, s.batch, rng);
    auto x = random_values(count(s.batch, s.inputs), rng, 0.);
    zero_steps(x, s.batch, s.inputs, rng);
    std::vector<float> x_transposed(x.size());
    for (int b = 0; b < s.batch; ++b) {
      for (int i = 0; i < s.inputs; ++i) x_transposed[i * s.batch + b] = x[b * s.inputs + i];
    }
    const auto dy_of = [&](int64_t o, int64_t b) { return dy_t[o * s.batch + b]; };
    const Reference dw_expected = reference_product(s.outputs, s.batch, s.inputs, dy_of, x);
    std::vector<float> dw(count(s.outputs, s.inputs), 99.f);
    nn::dense_weight_gradient(dy_t.data(), s.outputs, s.batch, x.data(), s.inputs, dw.data());
    check_product(dw, dw_expected);
    std::fill(dw.begin(), dw.end(), 99.f);
    nn::dense_weight_gradient_transposed_inputs(dy_t.data(), s.outputs, s.batch,
                                                x_transposed.data(), s.inputs, dw.data());
    check_product(dw, dw_expected);
    std::vector<float> dx(count(s.batch, s.inputs), 99.f);
    nn::dense_input_gradient(dy_t.data(), s.outputs, s.batch, w.data(), s.inputs, dx.data());
    check_product(dx, reference_product(
                          s.batch, s.outputs, s.inputs,
                          [&](int64_t b, int64_t o) { return dy_of(o, b); }, w));
  });
}

TEST_CASE("batch_products: transpose on odd shapes, 16x16 blocks and their edges") {
  for (int rows : {1, 15, 16, 33}) {
    for (int columns : {1, 16, 17, 40}) {
      CAPTURE(rows);
      CAPTURE(columns);
      std::vector<float> in(count(rows, columns));
      for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
      std::vector<float> out(in.size() + 1, -1.f);
      nn::transpose(in.data(), rows, columns, out.data());
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < columns; ++c) CHECK(out[c * rows + r] == in[r * columns + c]);
      }
      CHECK(out.back() == -1.f);
    }
  }
}

TEST_CASE("batch_products: leaves memory past the output alone") {
  std::mt19937 rng(7);
  const int outputs = 3, batch = 2, inputs = 17;
  const auto dy_t = random_values(outputs * batch, rng, 0.);
  const auto x = random_values(batch * inputs, rng, 0.);
  std::vector<float> dw(outputs * inputs + 40, 7.f);
  nn::dense_weight_gradient(dy_t.data(), outputs, batch, x.data(), inputs, dw.data());
  for (size_t i = outputs * inputs; i < dw.size(); ++i) CHECK(dw[i] == 7.f);
}

}  // namespace
}  // namespace rl
