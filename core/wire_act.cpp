// ACT and ACT_RESULT bodies of the wire protocol (1.1): a batch of observations in, one action
// per observation out (docs/protocol.md, "Acting with a served policy").
#include <cstring>
#include <stdexcept>

#include "core/wire.h"

namespace rl::wire {
namespace {

[[noreturn]] void bad_observation(const std::string& what) {
  throw WireError(ErrorCode::kBadObservation, what, false);
}

// [batch, shape...] of a Box space, or [batch, n] for the mask of a Discrete one.
std::vector<uint32_t> batch_dims(uint32_t batch, const std::vector<int64_t>& shape) {
  std::vector<uint32_t> dims{batch};
  for (int64_t d : shape) dims.push_back(static_cast<uint32_t>(d));
  return dims;
}

bool has_dims(const TensorView& t, const std::vector<uint32_t>& dims) {
  if (t.rank != static_cast<int>(dims.size())) return false;
  for (size_t i = 0; i < dims.size(); ++i)
    if (t.dims[i] != dims[i]) return false;
  return true;
}

std::string expected_text(TensorDType dtype, const std::vector<uint32_t>& dims) {
  TensorView t;
  t.dtype = dtype;
  t.rank = static_cast<int>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) t.dims[i] = dims[i];
  return t.describe();
}

void check_observations(const TensorView& obs, const Space& space, uint32_t max_batch) {
  if (obs.rank < 1 || obs.dims[0] == 0 || obs.dims[0] > max_batch)
    bad_observation("ACT observations are " + obs.describe() + ": the batch must be 1 to " +
                    std::to_string(max_batch) + " observations of " + space.describe());
  const std::vector<uint32_t> want = batch_dims(obs.dims[0], space.shape);
  const TensorDType dtype = tensor_dtype_of(space.dtype);
  if (obs.dtype != dtype || !has_dims(obs, want))
    bad_observation("ACT observations are " + obs.describe() + ", expected " +
                    expected_text(dtype, want) + " for this policy's observation space " +
                    space.describe());
}

void check_legal(const TensorView& legal, uint32_t batch, const Space& action_space) {
  if (!action_space.is_discrete())
    bad_observation("ACT carries a legal-action mask, but the action space " +
                    action_space.describe() + " is not Discrete");
  const std::vector<uint32_t> want{batch, static_cast<uint32_t>(action_space.n)};
  if (legal.dtype != TensorDType::kU8 || !has_dims(legal, want))
    bad_observation("ACT legal-action mask is " + legal.describe() + ", expected " +
                    expected_text(TensorDType::kU8, want));
  const size_t n = static_cast<size_t>(action_space.n);
  for (uint32_t row = 0; row < batch; ++row) {
    bool any = false;
    for (size_t a = 0; a < n && !any; ++a) any = legal.data[row * n + a] != 0;
    if (!any)
      bad_observation("ACT legal-action mask row " + std::to_string(row) + " has no legal action");
  }
}

}  // namespace

ActRequest decode_act(std::span<const uint8_t> body, const Space& observation_space,
                      const Space& action_space, uint32_t max_batch) {
  ActRequest request;
  size_t used = parse_tensor(body, request.observations);
  check_observations(request.observations, observation_space, max_batch);
  request.batch = request.observations.dims[0];
  if (used < body.size()) {
    used += parse_tensor(body.subspan(used), request.legal);
    if (request.legal.rank == 0)
      bad_observation("ACT legal-action mask is a scalar " + request.legal.describe());
    check_legal(request.legal, request.batch, action_space);
  }
  if (used != body.size())
    throw WireError(
        ErrorCode::kBadMessage,
        "ACT body has " + std::to_string(body.size() - used) + " bytes after its tensors", false);
  return request;
}

size_t act_body_bytes(const Space& observation_space, const Space& action_space, uint32_t batch,
                      bool with_legal) {
  const int rank = static_cast<int>(observation_space.shape.size()) + 1;
  size_t bytes = tensor_header_bytes(rank) + size_t{batch} * observation_space.bytes();
  if (with_legal)
    bytes += tensor_header_bytes(2) + size_t{batch} * static_cast<size_t>(action_space.n);
  return bytes;
}

void build_act_frame(std::vector<uint8_t>& out, uint32_t request_id, const Space& observation_space,
                     const Space& action_space, uint32_t batch,
                     std::span<const uint8_t> observations, std::span<const uint8_t> legal) {
  const bool with_legal = !legal.empty();
  if (observations.size() != size_t{batch} * observation_space.bytes())
    throw std::invalid_argument("ACT: " + std::to_string(observations.size()) +
                                " observation bytes for " + std::to_string(batch) +
                                " observations of " + observation_space.describe());
  if (with_legal && (!action_space.is_discrete() ||
                     legal.size() != size_t{batch} * static_cast<size_t>(action_space.n)))
    throw std::invalid_argument("ACT: a legal-action mask needs a Discrete action space and " +
                                std::to_string(batch) + " rows of n bytes");
  const size_t body = act_body_bytes(observation_space, action_space, batch, with_legal);
  out.resize(kHeaderBytes + body);
  encode_header(
      {static_cast<uint8_t>(MessageType::kAct), 0, static_cast<uint32_t>(body), request_id},
      std::span<uint8_t, kHeaderBytes>(out.data(), kHeaderBytes));
  uint8_t* p = out.data() + kHeaderBytes;
  const std::vector<uint32_t> obs_dims = batch_dims(batch, observation_space.shape);
  write_tensor_header(p, tensor_dtype_of(observation_space.dtype), obs_dims);
  p += tensor_header_bytes(static_cast<int>(obs_dims.size()));
  std::memcpy(p, observations.data(), observations.size());
  if (!with_legal) return;
  p += observations.size();
  const uint32_t legal_dims[2] = {batch, static_cast<uint32_t>(action_space.n)};
  write_tensor_header(p, TensorDType::kU8, legal_dims);
  std::memcpy(p + tensor_header_bytes(2), legal.data(), legal.size());
}

size_t act_result_body_bytes(const Space& action_space, uint32_t batch) {
  const std::vector<uint32_t> dims = action_dims(action_space, batch);
  const size_t per_action = action_space.is_discrete() ? 8 : 4 * action_space.numel();
  return tensor_header_bytes(static_cast<int>(dims.size())) + batch * per_action;
}

std::span<uint8_t> begin_act_result_frame(std::vector<uint8_t>& out, uint32_t request_id,
                                          const Space& action_space, uint32_t batch) {
  const std::vector<uint32_t> dims = action_dims(action_space, batch);
  const size_t body = act_result_body_bytes(action_space, batch);
  out.resize(kHeaderBytes + body);
  encode_header(
      {static_cast<uint8_t>(MessageType::kActResult), 0, static_cast<uint32_t>(body), request_id},
      std::span<uint8_t, kHeaderBytes>(out.data(), kHeaderBytes));
  const TensorDType dtype = action_space.is_discrete() ? TensorDType::kI64 : TensorDType::kF32;
  write_tensor_header(out.data() + kHeaderBytes, dtype, dims);
  const size_t header = tensor_header_bytes(static_cast<int>(dims.size()));
  return {out.data() + kHeaderBytes + header, body - header};
}

TensorView decode_act_result(std::span<const uint8_t> body, const Space& action_space,
                             uint32_t batch) {
  TensorView actions;
  const size_t used = parse_tensor(body, actions);
  if (used != body.size())
    throw WireError(ErrorCode::kBadMessage,
                    "ACT_RESULT body has " + std::to_string(body.size() - used) +
                        " bytes after the action tensor",
                    false);
  check_action_tensor(actions, action_space, batch, "ACT_RESULT actions", ErrorCode::kBadMessage,
                      ErrorCode::kBadMessage);
  return actions;
}

}  // namespace rl::wire
