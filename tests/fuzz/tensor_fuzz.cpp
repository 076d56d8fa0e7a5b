// Fuzzes the tensor parser, the STEP_RESULT decoder and the ACT decoder, and checks that a
// decodable STEP_RESULT survives the JSON encoding and back byte for byte, and that a decodable
// ACT body is exactly what build_act_frame writes for its observations and mask.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "core/json.h"
#include "core/wire.h"

namespace {

// Decodes `bytes` as an ACT body for the two spaces and, when that succeeds, re-encodes it.
void act_round_trip(std::span<const uint8_t> bytes, const rl::Space& observations,
                    const rl::Space& actions) {
  using namespace rl::wire;
  try {
    const ActRequest request = decode_act(bytes, observations, actions, 64);
    std::vector<uint8_t> frame;
    build_act_frame(frame, 0, observations, actions, request.batch, request.observations.data,
                    request.legal.data);
    if (frame.size() != kHeaderBytes + bytes.size() ||
        !std::equal(bytes.begin(), bytes.end(), frame.begin() + kHeaderBytes))
      std::abort();
  } catch (const WireError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rl::wire;
  const std::span<const uint8_t> bytes(data, size);
  try {
    TensorView t;
    const size_t used = parse_tensor(bytes, t);
    if (used > size || t.data.size() != t.numel() * tensor_dtype_size(t.dtype)) std::abort();
  } catch (const WireError&) {
  }
  static const rl::Space obs_f32 = rl::Space::box({4}, -1e30f, 1e30f, rl::DType::kF32);
  static const rl::Space obs_u8 = rl::Space::box({2, 3}, 0.f, 255.f, rl::DType::kU8);
  act_round_trip(bytes, obs_f32, rl::Space::discrete(3));
  act_round_trip(bytes, obs_u8, rl::Space::box({2}, -1.f, 1.f, rl::DType::kF32));
  try {
    const StepResultView r = parse_step_result(bytes);
    const TensorView& obs = r.observations;
    if (obs.dtype == TensorDType::kI64 || obs.rank < 2 || obs.numel() == 0) return 0;
    std::vector<int64_t> shape(obs.dims.begin() + 1, obs.dims.begin() + obs.rank);
    const auto dtype = obs.dtype == TensorDType::kU8 ? rl::DType::kU8 : rl::DType::kF32;
    const rl::Space space = rl::Space::box(shape, -3e38f, 3e38f, dtype);
    check_step_result(r, space, r.num_envs);
    std::vector<uint8_t> back;
    step_result_from_json(step_result_to_json(r), space, back);
    // Floats that are not finite or are -0 may change through JSON; compare the rest exactly.
    const StepResultView r2 = parse_step_result(back);
    if (r2.num_envs != r.num_envs || r2.num_final != r.num_final ||
        r2.observations.data.size() != obs.data.size())
      std::abort();
  } catch (const WireError&) {
  } catch (const rl::json::JsonError&) {  // NaN or infinity has no JSON form
  }
  return 0;
}
