#include "agents/common/nn/recurrent_layer.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "agents/common/nn/fast_math.h"
#include "agents/common/nn/blas.h"

namespace rl::nn {

namespace {

float sigmoid(float x) { return 1.f / (1.f + fast_exp(-x)); }

// Row-major C[m, n] (+)= A[m, k] B^T where B is [n, k]: the layer's products with weights.
void multiply_transposed(int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                         float beta, float* c) {
  sgemm(false, true, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.f, a,
        static_cast<int>(k), b, static_cast<int>(k), beta, c, static_cast<int>(n));
}

// C[m, n] = A[m, k] B[k, n] (beta 0) or += (beta 1).
void multiply(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float beta,
              float* c) {
  sgemm(false, false, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.f, a,
        static_cast<int>(k), b, static_cast<int>(n), beta, c, static_cast<int>(n));
}

// Parameter gradients of one weight matrix: dW[n, k] += dA^T [n, rows] X [rows, k], and the
// bias gradient db[n] += the column sums of dA [rows, n].
void accumulate_weight_gradients(int64_t rows, int64_t n, int64_t k, const float* d_pre,
                                 const float* x, float* dw, float* db) {
  sgemm(true, false, static_cast<int>(n), static_cast<int>(k), static_cast<int>(rows), 1.f, d_pre,
        static_cast<int>(n), x, static_cast<int>(k), 1.f, dw, static_cast<int>(k));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = d_pre + r * n;
    for (int64_t j = 0; j < n; ++j) db[j] += row[j];
  }
}

}  // namespace

RecurrentLayer::RecurrentLayer(Cell cell, int64_t input, int64_t hidden)
    : cell_(cell), input_(input), hidden_(hidden) {
  if (input < 1 || hidden < 1) {
    throw std::invalid_argument("recurrent layer: input (" + std::to_string(input) +
                                ") and hidden (" + std::to_string(hidden) +
                                ") sizes must be positive");
  }
}

void RecurrentLayer::forward(const RecurrentWeights& w, int64_t steps, int64_t batch,
                             const float* x, const float* h0, const float* c0, const float* starts,
                             float* y, float* h_last, float* c_last) {
  steps_ = steps;
  batch_ = batch;
  x_ = x;
  starts_ = starts;
  const int64_t rows = steps * batch, H = hidden_, G = gates() * H;
  gates_.resize(static_cast<size_t>(rows * G));
  h_prev_.resize(static_cast<size_t>(rows * H));
  // Input projections of every step at once: x W_ih^T + b_ih (+ b_hh, LSTM).
  multiply_transposed(rows, G, input_, x, w.w_ih, 0.f, gates_.data());
  for (int64_t r = 0; r < rows; ++r) {
    float* row = gates_.data() + r * G;
    for (int64_t j = 0; j < G; ++j) {
      row[j] += w.b_ih[j] + (cell_ == Cell::kLstm ? w.b_hh[j] : 0.f);
    }
  }
  if (cell_ == Cell::kLstm) {
    c_prev_.resize(static_cast<size_t>(rows * H));
    tanh_c_.resize(static_cast<size_t>(rows * H));
    for (int64_t t = 0; t < steps; ++t) {
      lstm_step(t, h0, c0, starts, y);
      float* h = h_prev_.data() + t * batch * H;
      multiply_transposed(batch, G, H, h, w.w_hh, 1.f, gates_.data() + t * batch * G);
      // The activations and the new state, now that the gates are complete.
      float* gate = gates_.data() + t * batch * G;
      const float* c_prev = c_prev_.data() + t * batch * H;
      float* tanh_c = tanh_c_.data() + t * batch * H;
      float* out = y + t * batch * H;
      for (int64_t b = 0; b < batch; ++b) {
        float* g = gate + b * G;
        for (int64_t j = 0; j < H; ++j) {
          const float i = sigmoid(g[j]), f = sigmoid(g[H + j]);
          const float cand = fast_tanh(g[2 * H + j]), o = sigmoid(g[3 * H + j]);
          g[j] = i, g[H + j] = f, g[2 * H + j] = cand, g[3 * H + j] = o;
          const float c = f * c_prev[b * H + j] + i * cand;
          tanh_c[b * H + j] = fast_tanh(c);
          out[b * H + j] = o * tanh_c[b * H + j];
        }
      }
    }
  } else {
    hh_.resize(static_cast<size_t>(rows * H));
    for (int64_t t = 0; t < steps; ++t) gru_step(w, t, h0, starts, y);
  }
  const float* y_last = y + (steps - 1) * batch * H;
  if (h_last) std::copy_n(y_last, batch * H, h_last);
  if (c_last && cell_ == Cell::kLstm) {
    // c = f c_prev + i g of the last step.
    const float* g = gates_.data() + (steps - 1) * batch * G;
    const float* c_prev = c_prev_.data() + (steps - 1) * batch * H;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < H; ++j) {
        const float* gb = g + b * G;
        c_last[b * H + j] = gb[H + j] * c_prev[b * H + j] + gb[j] * gb[2 * H + j];
      }
    }
  }
}

// Writes the (reset) state step t starts from into h_prev_ and c_prev_.
void RecurrentLayer::lstm_step(int64_t t, const float* h0, const float* c0, const float* starts,
                               float* y) {
  const int64_t H = hidden_, G = 4 * H, batch = batch_;
  float* h = h_prev_.data() + t * batch * H;
  float* c = c_prev_.data() + t * batch * H;
  for (int64_t b = 0; b < batch; ++b) {
    const float keep = 1.f - starts[t * batch + b];
    for (int64_t j = 0; j < H; ++j) {
      float h_before, c_before;
      if (t == 0) {
        h_before = h0[b * H + j];
        c_before = c0[b * H + j];
      } else {
        const float* g = gates_.data() + ((t - 1) * batch + b) * G;
        h_before = y[((t - 1) * batch + b) * H + j];
        c_before = g[H + j] * c_prev_[((t - 1) * batch + b) * H + j] + g[j] * g[2 * H + j];
      }
      h[b * H + j] = keep * h_before;
      c[b * H + j] = keep * c_before;
    }
  }
}

void RecurrentLayer::gru_step(const RecurrentWeights& w, int64_t t, const float* h0,
                              const float* starts, float* y) {
  const int64_t H = hidden_, G = 3 * H, batch = batch_;
  float* h = h_prev_.data() + t * batch * H;
  const float* before = t == 0 ? h0 : y + (t - 1) * batch * H;
  for (int64_t b = 0; b < batch; ++b) {
    const float keep = 1.f - starts[t * batch + b];
    for (int64_t j = 0; j < H; ++j) h[b * H + j] = keep * before[b * H + j];
  }
  // W_hh h + b_hh for all three gates, in the backward scratch (free during forward).
  dhh_.resize(static_cast<size_t>(batch * G));
  float* hidden_side = dhh_.data();
  for (int64_t b = 0; b < batch; ++b) std::copy_n(w.b_hh, G, hidden_side + b * G);
  multiply_transposed(batch, G, H, h, w.w_hh, 1.f, hidden_side);
  float* gate = gates_.data() + t * batch * G;
  float* hh_n = hh_.data() + t * batch * H;
  float* out = y + t * batch * H;
  for (int64_t b = 0; b < batch; ++b) {
    float* g = gate + b * G;
    const float* s = hidden_side + b * G;
    for (int64_t j = 0; j < H; ++j) {
      const float r = sigmoid(g[j] + s[j]), z = sigmoid(g[H + j] + s[H + j]);
      const float n = fast_tanh(g[2 * H + j] + r * s[2 * H + j]);
      g[j] = r, g[H + j] = z, g[2 * H + j] = n;
      hh_n[b * H + j] = s[2 * H + j];
      out[b * H + j] = (1.f - z) * n + z * h[b * H + j];
    }
  }
}

void RecurrentLayer::backward(const RecurrentWeights& w, const float* dy, RecurrentGradients g,
                              float* dx) {
  const int64_t rows = steps_ * batch_, H = hidden_, G = gates() * H;
  if (rows == 0) throw std::logic_error("recurrent layer: backward() before forward()");
  dgates_.assign(static_cast<size_t>(rows * G), 0.f);
  dh_prev_.resize(static_cast<size_t>(batch_ * H));
  std::vector<float> dh(static_cast<size_t>(batch_ * H), 0.f), dc;
  if (cell_ == Cell::kLstm) dc.assign(dh.size(), 0.f);
  if (cell_ == Cell::kGru) dhh_.assign(static_cast<size_t>(rows * G), 0.f);
  for (int64_t t = steps_ - 1; t >= 0; --t) {
    const float* dy_t = dy + t * batch_ * H;
    for (size_t k = 0; k < dh.size(); ++k) dh[k] += dy_t[k];
    if (cell_ == Cell::kLstm) {
      lstm_step_back(w, t, dh.data(), dc.data());
    } else {
      gru_step_back(w, t, dh.data());
    }
  }
  const float* d_input_side = dgates_.data();
  accumulate_weight_gradients(rows, G, input_, d_input_side, x_, g.w_ih, g.b_ih);
  if (cell_ == Cell::kLstm) {
    accumulate_weight_gradients(rows, G, H, d_input_side, h_prev_.data(), g.w_hh, g.b_hh);
  } else {
    accumulate_weight_gradients(rows, G, H, dhh_.data(), h_prev_.data(), g.w_hh, g.b_hh);
  }
  if (dx) multiply(rows, input_, G, d_input_side, w.w_ih, 0.f, dx);
}

void RecurrentLayer::lstm_step_back(const RecurrentWeights& w, int64_t t, float* dh, float* dc) {
  const int64_t H = hidden_, G = 4 * H, batch = batch_;
  const float* gate = gates_.data() + t * batch * G;
  const float* c_prev = c_prev_.data() + t * batch * H;
  const float* tanh_c = tanh_c_.data() + t * batch * H;
  float* d = dgates_.data() + t * batch * G;
  for (int64_t b = 0; b < batch; ++b) {
    const float* g = gate + b * G;
    float* dg = d + b * G;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const float i = g[j], f = g[H + j], cand = g[2 * H + j], o = g[3 * H + j];
      const float dc_total = dc[k] + dh[k] * o * (1.f - tanh_c[k] * tanh_c[k]);
      dg[j] = dc_total * cand * i * (1.f - i);
      dg[H + j] = dc_total * c_prev[k] * f * (1.f - f);
      dg[2 * H + j] = dc_total * i * (1.f - cand * cand);
      dg[3 * H + j] = dh[k] * tanh_c[k] * o * (1.f - o);
      dc[k] = dc_total * f;
    }
  }
  multiply(batch, H, G, d, w.w_hh, 0.f, dh_prev_.data());
  // Through the reset: no gradient reaches the state before an episode start.
  for (int64_t b = 0; b < batch; ++b) {
    const float keep = 1.f - starts_[t * batch + b];
    for (int64_t j = 0; j < H; ++j) {
      dh[b * H + j] = keep * dh_prev_[b * H + j];
      dc[b * H + j] *= keep;
    }
  }
}

void RecurrentLayer::gru_step_back(const RecurrentWeights& w, int64_t t, float* dh) {
  const int64_t H = hidden_, G = 3 * H, batch = batch_;
  const float* gate = gates_.data() + t * batch * G;
  const float* h_prev = h_prev_.data() + t * batch * H;
  const float* hh_n = hh_.data() + t * batch * H;
  float* d_in = dgates_.data() + t * batch * G;
  float* d_hidden = dhh_.data() + t * batch * G;
  for (int64_t b = 0; b < batch; ++b) {
    const float* g = gate + b * G;
    float* di = d_in + b * G;
    float* dhid = d_hidden + b * G;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const float r = g[j], z = g[H + j], n = g[2 * H + j];
      const float dn = dh[k] * (1.f - z) * (1.f - n * n);
      const float dz = dh[k] * (h_prev[k] - n) * z * (1.f - z);
      const float dr = dn * hh_n[k] * r * (1.f - r);
      di[j] = dr, di[H + j] = dz, di[2 * H + j] = dn;
      dhid[j] = dr, dhid[H + j] = dz, dhid[2 * H + j] = dn * r;
      dh_prev_[k] = dh[k] * z;  // The direct path h' = ... + z h.
    }
  }
  multiply(batch, H, G, d_hidden, w.w_hh, 1.f, dh_prev_.data());
  for (int64_t b = 0; b < batch; ++b) {
    const float keep = 1.f - starts_[t * batch + b];
    for (int64_t j = 0; j < H; ++j) dh[b * H + j] = keep * dh_prev_[b * H + j];
  }
}

}  // namespace rl::nn
