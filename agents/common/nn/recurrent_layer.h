// One LSTM or GRU layer run over a whole sequence of T steps of B rows on preallocated
// buffers with BLAS, and its backward pass through time: the fast path of recurrent PPO's
// sequence re-run (agents/common/recurrent_core.h), which otherwise costs a dozen LibTorch ops
// per step forward and again backward.
//
// The maths is PyTorch's torch::nn::LSTM / GRU (gate order i, f, g, o and r, z, n; both bias
// vectors), so the layer reads the parameters of those modules as they are. Before step t the
// state of row b is multiplied by (1 - starts[t, b]): 1 marks an episode start, where the state
// restarts from zero.
//
// All arrays are row-major floats: x [T, B, input], states [B, hidden], starts [T, B], the
// outputs y [T, B, hidden]; weights as torch stores them: w_ih [gates * hidden, input], w_hh
// [gates * hidden, hidden], biases [gates * hidden], with 4 gates (LSTM) or 3 (GRU).
#pragma once

#include <cstdint>
#include <vector>

namespace rl::nn {

struct RecurrentWeights {
  const float* w_ih;
  const float* w_hh;
  const float* b_ih;
  const float* b_hh;
};

struct RecurrentGradients {  // Accumulated into (+=), shaped as RecurrentWeights.
  float* w_ih;
  float* w_hh;
  float* b_ih;
  float* b_hh;
};

class RecurrentLayer {
 public:
  enum class Cell { kLstm, kGru };
  // Throws std::invalid_argument for non-positive sizes.
  RecurrentLayer(Cell cell, int64_t input, int64_t hidden);

  Cell cell() const { return cell_; }
  int64_t input() const { return input_; }
  int64_t hidden() const { return hidden_; }
  int64_t gates() const { return cell_ == Cell::kLstm ? 4 : 3; }

  // Runs `steps` steps of `batch` rows from h0 (and c0 for an LSTM; null for a GRU) and writes
  // the outputs y [T, B, hidden], the last hidden state to h_last and (LSTM) the last cell
  // state to c_last (either may be null). Keeps what backward() needs until the next call.
  void forward(const RecurrentWeights& w, int64_t steps, int64_t batch, const float* x,
               const float* h0, const float* c0, const float* starts, float* y, float* h_last,
               float* c_last);

  // The gradients of the last forward(), given dy [T, B, hidden] (the loss's gradient with
  // respect to every output): accumulates the parameter gradients into `g` and writes dx [T, B,
  // input] when dx is not null. The initial state gets no gradient (it is stored data).
  void backward(const RecurrentWeights& w, const float* dy, RecurrentGradients g, float* dx);

 private:
  void lstm_step(int64_t t, const float* h0, const float* c0, const float* starts, float* y);
  void gru_step(const RecurrentWeights& w, int64_t t, const float* h0, const float* starts,
                float* y);
  // One step back: from the gradient dh (and dc) flowing into step t's outputs, writes the
  // pre-activation gradients of step t into dgates_ (dhh_ for the GRU's hidden part) and the
  // gradients flowing to the previous step's state into dh (dc).
  void lstm_step_back(const RecurrentWeights& w, int64_t t, float* dh, float* dc);
  void gru_step_back(const RecurrentWeights& w, int64_t t, float* dh);

  Cell cell_;
  int64_t input_, hidden_;
  int64_t steps_ = 0, batch_ = 0;
  const float* x_ = nullptr;  // The last forward's input (the caller keeps it alive).
  const float* starts_ = nullptr;
  // Saved by forward, per step [T, B, ...]:
  std::vector<float> gates_;   // Activated gates (LSTM i f g o; GRU r z n) [.., gates * H].
  std::vector<float> hh_;      // GRU: W_hh h + b_hh of the n gate [.., H].
  std::vector<float> h_prev_;  // The state each step starts from, after its reset [.., H].
  std::vector<float> c_prev_;  // LSTM: likewise for the cell state.
  std::vector<float> tanh_c_;  // LSTM: tanh of the new cell state.
  // Backward scratch.
  std::vector<float> dgates_;   // [T, B, gates * H] pre-activation gradients (input side).
  std::vector<float> dhh_;      // GRU: [T, B, gates * H] gradients of W_hh h + b_hh.
  std::vector<float> dh_prev_;  // [B, H]
};

}  // namespace rl::nn
