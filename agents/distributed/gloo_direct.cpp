#include "agents/distributed/gloo_direct.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <gloo/allreduce_ring.h>
#include <gloo/rendezvous/context.h>

#include <csignal>
#include <cstring>
#include <map>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <vector>

namespace rl::distributed {

namespace {

// Gloo's ring all-reduce binds the buffers it reduces when it is built (it registers them with
// the pairs), so each size of sum gets a buffer and an algorithm of its own, built on its first
// use. Every rank builds them in the same order (the same calls), so their slots match.
// Gloo's reductions for 16-bit floats stored as their bits: widen, add, round back.
void sum_bfloat16_bits(uint16_t* sums, const uint16_t* addends, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const float total =
        c10::detail::f32_from_bits(sums[i]) + c10::detail::f32_from_bits(addends[i]);
    sums[i] = c10::detail::round_to_nearest_even(total);
  }
}

void sum_float16_bits(uint16_t* sums, const uint16_t* addends, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const float total = c10::detail::fp16_ieee_to_fp32_value(sums[i]) +
                        c10::detail::fp16_ieee_to_fp32_value(addends[i]);
    sums[i] = c10::detail::fp16_ieee_from_fp32_value(total);
  }
}

const gloo::ReductionFunction<uint16_t>* reduction_of(GradientDtype format) {
  static const gloo::ReductionFunction<uint16_t> bfloat16(gloo::SUM, &sum_bfloat16_bits);
  static const gloo::ReductionFunction<uint16_t> float16(gloo::SUM, &sum_float16_bits);
  if (format == GradientDtype::kBfloat16) return &bfloat16;
  if (format == GradientDtype::kFloat16) return &float16;
  throw std::invalid_argument("DirectGloo: 16-bit sums are bfloat16 or float16");
}

template <typename T>
class RingSums {
 public:
  void sum(const std::shared_ptr<gloo::Context>& context, T* data, int64_t count) {
    auto found = rings_.find(count);
    if (found == rings_.end()) {
      Ring ring;
      ring.buffer = std::make_unique<std::vector<T>>(static_cast<size_t>(count));
      ring.algorithm = std::make_unique<gloo::AllreduceRing<T>>(
          context, std::vector<T*>{ring.buffer->data()}, static_cast<int>(count));
      found = rings_.emplace(count, std::move(ring)).first;
    }
    Ring& ring = found->second;
    std::memcpy(ring.buffer->data(), data, sizeof(T) * static_cast<size_t>(count));
    ring.algorithm->run();
    std::memcpy(data, ring.buffer->data(), sizeof(T) * static_cast<size_t>(count));
  }

  // A ring on the caller's own memory, built on the first call with that address and size.
  // `reduction`: how two buffers are added (Gloo's element-wise sum by default).
  void sum_in_place(const std::shared_ptr<gloo::Context>& context, T* data, int64_t count,
                    const gloo::ReductionFunction<T>* reduction = gloo::ReductionFunction<T>::sum) {
    auto found = in_place_.find({data, count});
    if (found == in_place_.end()) {
      found = in_place_
                  .emplace(std::make_pair(data, count),
                           std::make_unique<gloo::AllreduceRing<T>>(
                               context, std::vector<T*>{data}, static_cast<int>(count), reduction))
                  .first;
    }
    found->second->run();
  }

 private:
  struct Ring {
    std::unique_ptr<std::vector<T>> buffer;  // Stays where the algorithm registered it.
    std::unique_ptr<gloo::AllreduceRing<T>> algorithm;
  };
  std::map<int64_t, Ring> rings_;
  std::map<std::pair<T*, int64_t>, std::unique_ptr<gloo::AllreduceRing<T>>> in_place_;
};

void ignore_broken_pipes() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    ::signal(SIGPIPE, SIG_IGN);
  }
}

}  // namespace

struct DirectGloo::State {
  std::shared_ptr<gloo::rendezvous::Context> context;
  RingSums<float> float_sums;
  RingSums<double> double_sums;
  RingSums<uint16_t> bfloat16_sums;  // One per format: a buffer's ring keeps its reduction.
  RingSums<uint16_t> float16_sums;
};

DirectGloo::DirectGloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                       const std::shared_ptr<gloo::transport::Device>& device,
                       std::chrono::milliseconds timeout, bool busy_poll,
                       const std::string& store_prefix)
    : state_(std::make_unique<State>()) {
  state_->context = std::make_shared<gloo::rendezvous::Context>(rank, world_size);
  state_->context->setTimeout(timeout);
  c10d::ProcessGroupGloo::GlooStore gloo_store(
      c10::make_intrusive<c10d::PrefixStore>(store_prefix, store));
  std::shared_ptr<gloo::transport::Device> shared_device = device;
  state_->context->connectFullMesh(gloo_store, shared_device);
  // A write to a rank that died must become an error (EPIPE), not end this process: in
  // synchronous mode the calling thread writes to the socket itself, without MSG_NOSIGNAL.
  ignore_broken_pipes();
  for (int r = 0; r < world_size; ++r) {
    if (r != rank) state_->context->getPair(r)->setSync(true, busy_poll);
  }
}

DirectGloo::~DirectGloo() = default;

void DirectGloo::sum(float* data, int64_t count) {
  if (count > 0) state_->float_sums.sum(state_->context, data, count);
}

void DirectGloo::sum_in_place(float* data, int64_t count) {
  if (count > 0) state_->float_sums.sum_in_place(state_->context, data, count);
}

void DirectGloo::sum_in_place(uint16_t* data, int64_t count, GradientDtype format) {
  if (count <= 0) return;
  RingSums<uint16_t>& sums =
      format == GradientDtype::kBfloat16 ? state_->bfloat16_sums : state_->float16_sums;
  sums.sum_in_place(state_->context, data, count, reduction_of(format));
}

void DirectGloo::sum(double* data, int64_t count) {
  if (count > 0) state_->double_sums.sum(state_->context, data, count);
}

}  // namespace rl::distributed
