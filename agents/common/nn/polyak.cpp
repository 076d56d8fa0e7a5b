#include "agents/common/nn/polyak.h"

#include <algorithm>
#include <stdexcept>

#include "agents/vector_clones.h"

namespace rl::nn {

namespace {

RLCADE_VECTOR_CLONES
void blend(float* __restrict target, const float* __restrict source, int64_t n, float keep,
           float take) {
  for (int64_t i = 0; i < n; ++i) target[i] = target[i] * keep + source[i] * take;
}

}  // namespace

PolyakAverager::PolyakAverager(torch::nn::Module& source, torch::nn::Module& target)
    : source_(source.parameters()), target_(target.parameters()) {
  bool same = source_.size() == target_.size();
  for (size_t i = 0; same && i < source_.size(); ++i) {
    same = source_[i].sizes() == target_[i].sizes() && source_[i].is_contiguous() &&
           target_[i].is_contiguous();
  }
  if (!same) throw std::invalid_argument("polyak: the two networks' parameters do not pair up");
}

void PolyakAverager::update(double tau) {
  for (size_t i = 0; i < source_.size(); ++i) {
    const float* from = source_[i].data_ptr<float>();
    float* to = target_[i].data_ptr<float>();
    const int64_t n = source_[i].numel();
    if (tau >= 1.0) {
      std::copy_n(from, n, to);
    } else {
      blend(to, from, n, static_cast<float>(1.0 - tau), static_cast<float>(tau));
    }
  }
}

}  // namespace rl::nn
