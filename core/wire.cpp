#include "core/wire.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/json.h"

namespace rl::wire {
namespace {

void put_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint16_t get_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

size_t pad4(size_t n) { return (n + 3) & ~size_t{3}; }

// Spaces declared in a WELCOME are capped so a tiny message cannot demand huge bound arrays.
constexpr int64_t kMaxSpaceElements = int64_t{1} << 24;

[[noreturn]] void bad_message(const std::string& what) {
  throw WireError(ErrorCode::kBadMessage, what, false);
}

}  // namespace

std::string message_type_name(uint8_t type) {
  static const char* names[] = {nullptr, "HELLO", "WELCOME", "RESET", "STEP", "STEP_RESULT",
                                "ERROR", "PING",  "PONG",    "CLOSE", "ACT",  "ACT_RESULT"};
  if (type >= 1 && type <= 11) return names[type];
  return "UNKNOWN(" + std::to_string(type) + ")";
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadFrame:
      return "bad_frame";
    case ErrorCode::kFrameTooLarge:
      return "frame_too_large";
    case ErrorCode::kBadMessage:
      return "bad_message";
    case ErrorCode::kBadJson:
      return "bad_json";
    case ErrorCode::kVersionMismatch:
      return "version_mismatch";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kBadAction:
      return "bad_action";
    case ErrorCode::kActionOutOfRange:
      return "action_out_of_range";
    case ErrorCode::kInvalidState:
      return "invalid_state";
    case ErrorCode::kEnvFailure:
      return "env_failure";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kBadObservation:
      return "bad_observation";
  }
  return "unknown";
}

// ---- frames ---------------------------------------------------------------------------------

void encode_header(const FrameHeader& header, std::span<uint8_t, kHeaderBytes> out) {
  uint8_t* p = out.data();
  put_u32(p, kMagic);
  put_u32(p + 4, header.body_bytes);
  p[8] = header.type;
  p[9] = header.flags;
  put_u16(p + 10, 0);
  put_u32(p + 12, header.request_id);
}

FrameHeader decode_header(std::span<const uint8_t, kHeaderBytes> bytes, uint32_t max_body_bytes) {
  const uint8_t* p = bytes.data();
  if (get_u32(p) != kMagic)
    throw WireError(ErrorCode::kBadFrame, "frame does not start with the magic bytes 'RLCW'", true);
  if (get_u16(p + 10) != 0)
    throw WireError(ErrorCode::kBadFrame, "frame header reserved bytes are not zero", true);
  FrameHeader h;
  h.body_bytes = get_u32(p + 4);
  h.type = p[8];
  h.flags = p[9];
  h.request_id = get_u32(p + 12);
  if (h.body_bytes > max_body_bytes)
    throw WireError(ErrorCode::kFrameTooLarge,
                    message_type_name(h.type) + " frame declares a body of " +
                        std::to_string(h.body_bytes) + " bytes, above the limit of " +
                        std::to_string(max_body_bytes),
                    true);
  return h;
}

void build_frame(std::vector<uint8_t>& out, MessageType type, uint32_t request_id,
                 std::span<const uint8_t> body, uint8_t flags) {
  if (body.size() > std::numeric_limits<uint32_t>::max())
    throw std::length_error("frame body above 4 GiB");
  out.resize(kHeaderBytes + body.size());
  FrameHeader h{static_cast<uint8_t>(type), flags, static_cast<uint32_t>(body.size()), request_id};
  encode_header(h, std::span<uint8_t, kHeaderBytes>(out.data(), kHeaderBytes));
  if (!body.empty()) std::memcpy(out.data() + kHeaderBytes, body.data(), body.size());
}

void build_frame(std::vector<uint8_t>& out, MessageType type, uint32_t request_id,
                 std::string_view body, uint8_t flags) {
  build_frame(out, type, request_id,
              std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()),
              flags);
}

// ---- tensors --------------------------------------------------------------------------------

size_t tensor_dtype_size(TensorDType dtype) {
  switch (dtype) {
    case TensorDType::kU8:
      return 1;
    case TensorDType::kI64:
      return 8;
    case TensorDType::kF32:
      return 4;
  }
  return 0;
}

std::string tensor_dtype_name(uint8_t dtype) {
  switch (static_cast<TensorDType>(dtype)) {
    case TensorDType::kU8:
      return "u8";
    case TensorDType::kI64:
      return "i64";
    case TensorDType::kF32:
      return "f32";
  }
  return "unknown(" + std::to_string(dtype) + ")";
}

TensorDType tensor_dtype_of(DType dtype) {
  return dtype == DType::kU8 ? TensorDType::kU8 : TensorDType::kF32;
}

uint64_t TensorView::numel() const {
  uint64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[i];
  return n;
}

std::string TensorView::describe() const {
  std::string s = tensor_dtype_name(static_cast<uint8_t>(dtype)) + "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ',';
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

size_t parse_tensor(std::span<const uint8_t> bytes, TensorView& out) {
  if (bytes.size() < 4) bad_message("tensor header truncated");
  const uint8_t dtype = bytes[0];
  const int rank = bytes[1];
  if (dtype < 1 || dtype > 3) bad_message("tensor has unknown dtype code " + std::to_string(dtype));
  if (rank > kMaxRank)
    bad_message("tensor rank " + std::to_string(rank) + " above " + std::to_string(kMaxRank));
  if (get_u16(bytes.data() + 2) != 0) bad_message("tensor header reserved bytes are not zero");
  const size_t header = tensor_header_bytes(rank);
  if (bytes.size() < header) bad_message("tensor dims truncated");
  out.dtype = static_cast<TensorDType>(dtype);
  out.rank = rank;
  out.dims.fill(0);
  // Each dim < 2^32 and the running byte count is checked against the available bytes, so
  // the product cannot overflow before it is rejected.
  uint64_t data_bytes = tensor_dtype_size(out.dtype);
  const uint64_t available = bytes.size() - header;
  for (int i = 0; i < rank; ++i) {
    out.dims[i] = get_u32(bytes.data() + 4 + 4 * i);
    data_bytes *= out.dims[i];
    if (data_bytes > available) bad_message("tensor " + out.describe() + " data truncated");
  }
  if (data_bytes > available) bad_message("tensor " + out.describe() + " data truncated");
  out.data = bytes.subspan(header, data_bytes);
  return header + data_bytes;
}

void write_tensor_header(uint8_t* out, TensorDType dtype, std::span<const uint32_t> dims) {
  out[0] = static_cast<uint8_t>(dtype);
  out[1] = static_cast<uint8_t>(dims.size());
  put_u16(out + 2, 0);
  for (size_t i = 0; i < dims.size(); ++i) put_u32(out + 4 + 4 * i, dims[i]);
}

// ---- RESET ----------------------------------------------------------------------------------

std::array<uint8_t, kResetBodyBytes> encode_reset(const ResetRequest& request) {
  std::array<uint8_t, kResetBodyBytes> body{};
  put_u32(body.data(), request.has_seed ? 1u : 0u);
  put_u64(body.data() + 8, request.seed);
  return body;
}

ResetRequest decode_reset(std::span<const uint8_t> body) {
  if (body.size() != kResetBodyBytes)
    bad_message("RESET body has " + std::to_string(body.size()) + " bytes, expected 16");
  const uint32_t flags = get_u32(body.data());
  if (flags > 1 || get_u32(body.data() + 4) != 0)
    bad_message("RESET body has unknown flags or non-zero reserved bytes");
  return ResetRequest{flags == 1, get_u64(body.data() + 8)};
}

// ---- STEP -----------------------------------------------------------------------------------

std::vector<uint32_t> action_dims(const Space& action_space, uint32_t num_envs) {
  std::vector<uint32_t> dims{num_envs};
  if (!action_space.is_discrete())
    for (int64_t d : action_space.shape) dims.push_back(static_cast<uint32_t>(d));
  return dims;
}

namespace {

std::string dims_text(std::span<const uint32_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

void check_action_values(const TensorView& t, const Space& space, uint32_t num_envs,
                         ErrorCode code) {
  if (space.is_discrete()) {
    for (uint32_t i = 0; i < num_envs; ++i) {
      const int64_t a = static_cast<int64_t>(get_u64(t.data.data() + 8 * i));
      if (a < 0 || a >= space.n)
        throw WireError(code,
                        "action " + std::to_string(a) + " of env " + std::to_string(i) +
                            " is outside " + space.describe(),
                        false);
    }
    return;
  }
  const uint64_t per_env = static_cast<uint64_t>(space.numel());
  for (uint64_t k = 0; k < t.numel(); ++k) {
    float v;
    std::memcpy(&v, t.data.data() + 4 * k, 4);
    const size_t e = static_cast<size_t>(k % per_env);
    if (!std::isfinite(v) || v < space.low[e] || v > space.high[e])
      throw WireError(code,
                      "action value " + std::to_string(v) + " of env " +
                          std::to_string(k / per_env) + " at index " + std::to_string(e) +
                          " is outside [" + std::to_string(space.low[e]) + ", " +
                          std::to_string(space.high[e]) + "]",
                      false);
  }
}

}  // namespace

TensorView decode_step(std::span<const uint8_t> body, const Space& action_space,
                       uint32_t num_envs) {
  TensorView t;
  const size_t used = parse_tensor(body, t);
  if (used != body.size())
    bad_message("STEP body has " + std::to_string(body.size() - used) +
                " bytes after the action tensor");
  check_action_tensor(t, action_space, num_envs, "STEP actions", ErrorCode::kBadAction,
                      ErrorCode::kActionOutOfRange);
  return t;
}

void check_action_tensor(const TensorView& t, const Space& action_space, uint32_t rows,
                         const std::string& what, ErrorCode shape_code, ErrorCode range_code) {
  const TensorDType want = action_space.is_discrete() ? TensorDType::kI64 : TensorDType::kF32;
  const std::vector<uint32_t> dims = action_dims(action_space, rows);
  bool shape_ok = t.rank == static_cast<int>(dims.size());
  for (size_t i = 0; shape_ok && i < dims.size(); ++i) shape_ok = t.dims[i] == dims[i];
  if (t.dtype != want || !shape_ok)
    throw WireError(shape_code,
                    what + " are " + t.describe() + ", expected " +
                        tensor_dtype_name(static_cast<uint8_t>(want)) + dims_text(dims) + " for " +
                        std::to_string(rows) + " env(s) with action space " +
                        action_space.describe(),
                    false);
  check_action_values(t, action_space, rows, range_code);
}

// ---- STEP_RESULT ----------------------------------------------------------------------------

const char* step_type_name(StepType type) {
  switch (type) {
    case StepType::kFirst:
      return "first";
    case StepType::kMid:
      return "mid";
    case StepType::kTerminated:
      return "terminated";
    case StepType::kTruncated:
      return "truncated";
  }
  return "unknown";
}

float StepResultView::reward(uint32_t env) const {
  float r;
  std::memcpy(&r, rewards.data() + 4 * static_cast<size_t>(env), 4);
  return r;
}

StepResultView parse_step_result(std::span<const uint8_t> body) {
  if (body.size() < 8) bad_message("STEP_RESULT body truncated");
  StepResultView r;
  r.num_envs = get_u32(body.data());
  r.num_final = get_u32(body.data() + 4);
  const uint64_t fixed = 8 + pad4(r.num_envs) + 4ull * r.num_envs;
  if (r.num_envs == 0 || fixed > body.size())
    bad_message("STEP_RESULT for " + std::to_string(r.num_envs) + " envs truncated");
  r.step_types = body.subspan(8, r.num_envs);
  r.rewards = body.subspan(8 + pad4(r.num_envs), 4ull * r.num_envs);
  uint32_t ended = 0;
  for (uint32_t i = 0; i < r.num_envs; ++i) {
    if (r.step_types[i] > 3)
      bad_message("STEP_RESULT has unknown step type " + std::to_string(r.step_types[i]));
    ended += r.step_types[i] >= 2;
  }
  if (ended != r.num_final)
    bad_message("STEP_RESULT has " + std::to_string(ended) + " finished episodes but " +
                std::to_string(r.num_final) + " final observations");
  size_t offset = fixed;
  offset += parse_tensor(body.subspan(offset), r.observations);
  offset += parse_tensor(body.subspan(offset), r.final_observations);
  if (offset != body.size()) bad_message("STEP_RESULT has trailing bytes");
  const TensorView& obs = r.observations;
  const TensorView& fin = r.final_observations;
  bool ok = obs.rank >= 1 && obs.dims[0] == r.num_envs && fin.rank == obs.rank &&
            fin.dims[0] == r.num_final && fin.dtype == obs.dtype;
  for (int i = 1; ok && i < obs.rank; ++i) ok = fin.dims[i] == obs.dims[i];
  if (!ok)
    bad_message("STEP_RESULT observation tensors " + obs.describe() + " and " + fin.describe() +
                " do not match " + std::to_string(r.num_envs) + " envs and " +
                std::to_string(r.num_final) + " final observations");
  return r;
}

void check_step_result(const StepResultView& result, const Space& observation_space,
                       uint32_t num_envs) {
  const TensorView& obs = result.observations;
  bool ok = result.num_envs == num_envs && obs.dtype == tensor_dtype_of(observation_space.dtype) &&
            obs.rank == static_cast<int>(observation_space.shape.size()) + 1;
  for (size_t i = 0; ok && i < observation_space.shape.size(); ++i)
    ok = obs.dims[i + 1] == static_cast<uint64_t>(observation_space.shape[i]);
  if (!ok)
    bad_message("STEP_RESULT observations are " + obs.describe() + ", expected " +
                std::to_string(num_envs) + " rows of " + observation_space.describe());
}

StepResultWriter::StepResultWriter(uint32_t num_envs, const Space& observation_space)
    : num_envs_(num_envs),
      obs_bytes_(observation_space.bytes()),
      dtype_(tensor_dtype_of(observation_space.dtype)) {
  if (num_envs == 0 || observation_space.is_discrete())
    throw std::invalid_argument("StepResultWriter needs num_envs > 0 and a Box observation space");
  obs_dims_.push_back(num_envs);
  for (int64_t d : observation_space.shape) obs_dims_.push_back(static_cast<uint32_t>(d));
  const size_t th = tensor_header_bytes(static_cast<int>(obs_dims_.size()));
  rewards_offset_ = kHeaderBytes + 8 + pad4(num_envs);
  obs_tensor_offset_ = rewards_offset_ + 4 * size_t{num_envs};
  final_tensor_offset_ = obs_tensor_offset_ + th + num_envs * obs_bytes_;
  frame_.assign(final_tensor_offset_ + th + num_envs * obs_bytes_, 0);
  write_tensor_header(frame_.data() + obs_tensor_offset_, dtype_, obs_dims_);
  begin();
}

void StepResultWriter::begin() { num_final_ = 0; }

std::span<uint8_t> StepResultWriter::observation(uint32_t env) {
  const size_t th = tensor_header_bytes(static_cast<int>(obs_dims_.size()));
  return {frame_.data() + obs_tensor_offset_ + th + env * obs_bytes_, obs_bytes_};
}

void StepResultWriter::set(uint32_t env, StepType type, float reward) {
  frame_[kHeaderBytes + 8 + env] = static_cast<uint8_t>(type);
  std::memcpy(frame_.data() + rewards_offset_ + 4 * size_t{env}, &reward, 4);
}

void StepResultWriter::add_final(uint32_t env) {
  if (num_final_ >= num_envs_) throw std::logic_error("more final observations than envs");
  const size_t th = tensor_header_bytes(static_cast<int>(obs_dims_.size()));
  std::memcpy(frame_.data() + final_tensor_offset_ + th + num_final_ * obs_bytes_,
              observation(env).data(), obs_bytes_);
  ++num_final_;
}

std::span<const uint8_t> StepResultWriter::finish(uint32_t request_id) {
  const size_t th = tensor_header_bytes(static_cast<int>(obs_dims_.size()));
  put_u32(frame_.data() + kHeaderBytes, num_envs_);
  put_u32(frame_.data() + kHeaderBytes + 4, num_final_);
  std::vector<uint32_t>& dims = obs_dims_;
  dims[0] = num_final_;
  write_tensor_header(frame_.data() + final_tensor_offset_, dtype_, dims);
  dims[0] = num_envs_;
  frame_bytes_ = final_tensor_offset_ + th + num_final_ * obs_bytes_;
  FrameHeader h{static_cast<uint8_t>(MessageType::kStepResult), 0,
                static_cast<uint32_t>(frame_bytes_ - kHeaderBytes), request_id};
  encode_header(h, std::span<uint8_t, kHeaderBytes>(frame_.data(), kHeaderBytes));
  return {frame_.data(), frame_bytes_};
}

std::span<const uint8_t> StepResultWriter::body() const {
  return {frame_.data() + kHeaderBytes, frame_bytes_ - kHeaderBytes};
}

// ---- JSON helpers ---------------------------------------------------------------------------

namespace {

json::Value parse_json_body(std::string_view text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::JsonError& e) {
    throw WireError(ErrorCode::kBadJson, std::string(what) + ": " + e.what(), true);
  }
}

const json::Value& field(const json::Value& obj, const char* what, const char* key) {
  const json::Value* v = obj.find(key);
  if (!v) bad_message(std::string(what) + " lacks the field '" + key + "'");
  return *v;
}

double number_in(const json::Value& v, const char* what, const char* key, double lo, double hi) {
  if (!v.is_number() || v.as_number() != std::floor(v.as_number()) || v.as_number() < lo ||
      v.as_number() > hi)
    bad_message(std::string(what) + ": '" + key + "' must be an integer in [" +
                std::to_string(static_cast<int64_t>(lo)) + ", " +
                std::to_string(static_cast<int64_t>(hi)) + "]");
  return v.as_number();
}

const std::string& string_in(const json::Value& v, const char* what, const char* key) {
  if (!v.is_string()) bad_message(std::string(what) + ": '" + key + "' must be a string");
  return v.as_string();
}

std::vector<std::string> strings_in(const json::Value& v, const char* what, const char* key) {
  if (!v.is_array()) bad_message(std::string(what) + ": '" + key + "' must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : v.items()) out.push_back(string_in(item, what, key));
  return out;
}

json::Value version_json(uint16_t major, uint16_t minor) {
  return json::Value::array({json::Value(int{major}), json::Value(int{minor})});
}

void parse_version(const json::Value& obj, const char* what, uint16_t& major, uint16_t& minor) {
  const json::Value& v = field(obj, what, "version");
  if (!v.is_array() || v.items().size() != 2)
    bad_message(std::string(what) + ": 'version' must be [major, minor]");
  major = static_cast<uint16_t>(number_in(v.items()[0], what, "version", 0, 65535));
  minor = static_cast<uint16_t>(number_in(v.items()[1], what, "version", 0, 65535));
}

json::Value strings_json(const std::vector<std::string>& list) {
  json::Value arr = json::Value::array();
  for (const auto& s : list) arr.push_back(s);
  return arr;
}

// Bounds: a number, "inf" or "-inf" (JSON has no infinity).
json::Value bound_json(float x) {
  if (std::isinf(x)) return json::Value(x > 0 ? "inf" : "-inf");
  return json::Value(static_cast<double>(x));
}

float bound_from(const json::Value& v, const char* what) {
  if (v.is_string() && (v.as_string() == "inf" || v.as_string() == "-inf"))
    return v.as_string() == "inf" ? std::numeric_limits<float>::infinity()
                                  : -std::numeric_limits<float>::infinity();
  if (!v.is_number())
    bad_message(std::string(what) + ": a bound must be a number, \"inf\" or \"-inf\"");
  const double x = v.as_number();
  if (std::fabs(x) > std::numeric_limits<float>::max() * 1.0000001)
    bad_message(std::string(what) + ": bound " + std::to_string(x) + " does not fit in f32");
  return static_cast<float>(std::clamp(x, -double{std::numeric_limits<float>::max()},
                                       double{std::numeric_limits<float>::max()}));
}

// Writes per-element bounds as one number when they are all equal.
json::Value bounds_json(const std::vector<float>& values) {
  bool uniform = true;
  for (float v : values) uniform = uniform && v == values.front();
  if (uniform && !values.empty()) return bound_json(values.front());
  json::Value arr = json::Value::array();
  for (float v : values) arr.push_back(bound_json(v));
  return arr;
}

std::vector<float> bounds_from(const json::Value& v, int64_t numel, const char* what) {
  if (!v.is_array()) return std::vector<float>(numel, bound_from(v, what));
  if (static_cast<int64_t>(v.items().size()) != numel)
    bad_message(std::string(what) + ": bounds list has " + std::to_string(v.items().size()) +
                " entries for " + std::to_string(numel) + " elements");
  std::vector<float> out;
  out.reserve(numel);
  for (const auto& item : v.items()) out.push_back(bound_from(item, what));
  return out;
}

json::Value space_json(const Space& space) {
  json::Value obj = json::Value::object();
  if (space.is_discrete()) {
    obj.set("kind", "discrete");
    obj.set("n", json::Value(space.n));
    return obj;
  }
  obj.set("kind", "box");
  obj.set("dtype", dtype_name(space.dtype));
  json::Value shape = json::Value::array();
  for (int64_t d : space.shape) shape.push_back(json::Value(d));
  obj.set("shape", std::move(shape));
  obj.set("low", bounds_json(space.low));
  obj.set("high", bounds_json(space.high));
  return obj;
}

Space space_from(const json::Value& v, const char* what) {
  if (!v.is_object()) bad_message(std::string(what) + " must be an object");
  const std::string& kind = string_in(field(v, what, "kind"), what, "kind");
  if (kind == "discrete")
    return Space::discrete(
        static_cast<int64_t>(number_in(field(v, what, "n"), what, "n", 1, 1e15)));
  if (kind != "box")
    bad_message(std::string(what) + ": kind '" + kind + "' is not discrete or box");
  const std::string& dtype = string_in(field(v, what, "dtype"), what, "dtype");
  if (dtype != "u8" && dtype != "f32")
    bad_message(std::string(what) + ": dtype '" + dtype + "' is not u8 or f32");
  const json::Value& shape_json = field(v, what, "shape");
  if (!shape_json.is_array() || shape_json.items().empty() ||
      static_cast<int>(shape_json.items().size()) >= kMaxRank)
    bad_message(std::string(what) + ": 'shape' must be a list of 1 to " +
                std::to_string(kMaxRank - 1) + " dimensions");
  std::vector<int64_t> shape;
  int64_t numel = 1;
  for (const auto& d : shape_json.items()) {
    shape.push_back(static_cast<int64_t>(number_in(d, what, "shape", 1, 1 << 30)));
    numel *= shape.back();
    if (numel > kMaxSpaceElements)
      bad_message(std::string(what) + ": shape has more than " + std::to_string(kMaxSpaceElements) +
                  " elements");
  }
  std::vector<float> low = bounds_from(field(v, what, "low"), numel, what);
  std::vector<float> high = bounds_from(field(v, what, "high"), numel, what);
  try {
    return Space::box(std::move(shape), std::move(low), std::move(high),
                      dtype == "u8" ? DType::kU8 : DType::kF32);
  } catch (const std::invalid_argument& e) {
    bad_message(std::string(what) + ": " + e.what());
  }
}

}  // namespace

// ---- handshake ------------------------------------------------------------------------------

std::string encode_hello(const Hello& hello) {
  json::Value obj = json::Value::object();
  obj.set("protocol", "rlcade-wire");
  obj.set("version", version_json(hello.version_major, hello.version_minor));
  if (!hello.token.empty()) obj.set("token", hello.token);
  obj.set("max_body_bytes", json::Value(hello.max_body_bytes));
  if (hello.num_envs) obj.set("num_envs", json::Value(hello.num_envs));
  obj.set("observation_encoding", hello.observation_encoding);
  obj.set("capabilities", strings_json(hello.capabilities));
  if (!hello.client_name.empty()) obj.set("client", hello.client_name);
  return json::dump(obj);
}

Hello parse_hello(std::string_view text) {
  const char* what = "HELLO";
  const json::Value obj = parse_json_body(text, what);
  if (!obj.is_object()) bad_message("HELLO body must be a JSON object");
  if (string_in(field(obj, what, "protocol"), what, "protocol") != "rlcade-wire")
    bad_message("HELLO: 'protocol' must be \"rlcade-wire\"");
  Hello h;
  parse_version(obj, what, h.version_major, h.version_minor);
  if (const auto* v = obj.find("token")) h.token = string_in(*v, what, "token");
  if (const auto* v = obj.find("max_body_bytes"))
    h.max_body_bytes =
        static_cast<uint32_t>(number_in(*v, what, "max_body_bytes", kMinMaxBodyBytes, 0xFFFFFFFFu));
  if (const auto* v = obj.find("num_envs"))
    h.num_envs = static_cast<uint32_t>(number_in(*v, what, "num_envs", 1, 1 << 20));
  if (const auto* v = obj.find("observation_encoding")) {
    h.observation_encoding = string_in(*v, what, "observation_encoding");
    if (h.observation_encoding != "binary" && h.observation_encoding != "json")
      bad_message("HELLO: 'observation_encoding' must be \"binary\" or \"json\"");
  }
  if (const auto* v = obj.find("capabilities"))
    h.capabilities = strings_in(*v, what, "capabilities");
  if (const auto* v = obj.find("client")) h.client_name = string_in(*v, what, "client");
  return h;
}

std::string encode_welcome(const Welcome& w) {
  json::Value obj = json::Value::object();
  obj.set("protocol", "rlcade-wire");
  obj.set("version", version_json(w.version_major, w.version_minor));
  obj.set("env_id", w.env_id);
  obj.set("description", w.description);
  obj.set("num_envs", json::Value(w.num_envs));
  obj.set("observation_space", space_json(w.observation_space));
  obj.set("action_space", space_json(w.action_space));
  obj.set("reward_range", json::Value::array({bound_json(w.reward_min), bound_json(w.reward_max)}));
  obj.set("max_episode_steps", json::Value(w.max_episode_steps));
  obj.set("max_body_bytes", json::Value(w.max_body_bytes));
  obj.set("observation_encoding", w.observation_encoding);
  obj.set("capabilities", strings_json(w.capabilities));
  if (w.max_act_batch) obj.set("max_act_batch", json::Value(w.max_act_batch));
  return json::dump(obj);
}

Welcome parse_welcome(std::string_view text) {
  const char* what = "WELCOME";
  const json::Value obj = parse_json_body(text, what);
  if (!obj.is_object()) bad_message("WELCOME body must be a JSON object");
  if (string_in(field(obj, what, "protocol"), what, "protocol") != "rlcade-wire")
    bad_message("WELCOME: 'protocol' must be \"rlcade-wire\"");
  Welcome w;
  parse_version(obj, what, w.version_major, w.version_minor);
  w.env_id = string_in(field(obj, what, "env_id"), what, "env_id");
  if (const auto* v = obj.find("description")) w.description = string_in(*v, what, "description");
  w.num_envs =
      static_cast<uint32_t>(number_in(field(obj, what, "num_envs"), what, "num_envs", 1, 1 << 20));
  w.observation_space =
      space_from(field(obj, what, "observation_space"), "WELCOME observation_space");
  if (w.observation_space.is_discrete()) bad_message("WELCOME: observation_space must be a box");
  w.action_space = space_from(field(obj, what, "action_space"), "WELCOME action_space");
  if (const auto* v = obj.find("reward_range")) {
    if (!v->is_array() || v->items().size() != 2)
      bad_message("WELCOME: 'reward_range' must be [min, max]");
    w.reward_min = bound_from(v->items()[0], what);
    w.reward_max = bound_from(v->items()[1], what);
  }
  if (const auto* v = obj.find("max_episode_steps"))
    w.max_episode_steps =
        static_cast<int64_t>(number_in(*v, what, "max_episode_steps", 0, 9007199254740992.0));
  if (const auto* v = obj.find("max_body_bytes"))
    w.max_body_bytes =
        static_cast<uint32_t>(number_in(*v, what, "max_body_bytes", kMinMaxBodyBytes, 0xFFFFFFFFu));
  if (const auto* v = obj.find("observation_encoding")) {
    w.observation_encoding = string_in(*v, what, "observation_encoding");
    if (w.observation_encoding != "binary" && w.observation_encoding != "json")
      bad_message("WELCOME: 'observation_encoding' must be \"binary\" or \"json\"");
  }
  if (const auto* v = obj.find("capabilities"))
    w.capabilities = strings_in(*v, what, "capabilities");
  if (const auto* v = obj.find("max_act_batch"))
    w.max_act_batch = static_cast<uint32_t>(number_in(*v, what, "max_act_batch", 1, 1 << 24));
  return w;
}

uint16_t negotiate_minor(uint16_t peer_major, uint16_t peer_minor) {
  if (peer_major != kVersionMajor)
    throw WireError(ErrorCode::kVersionMismatch,
                    "protocol version " + std::to_string(peer_major) + "." +
                        std::to_string(peer_minor) + " is not compatible with " +
                        std::to_string(kVersionMajor) + "." + std::to_string(kVersionMinor) +
                        " (major versions must match)",
                    true);
  return std::min(peer_minor, kVersionMinor);
}

bool tokens_equal(std::string_view expected, std::string_view given) {
  // Walk the full length of `given` whatever happens, so the time depends only on its length.
  unsigned diff = expected.size() != given.size() ? 1u : 0u;
  for (size_t i = 0; i < given.size(); ++i) {
    const unsigned char e =
        expected.empty() ? 0 : static_cast<unsigned char>(expected[i % expected.size()]);
    diff |= e ^ static_cast<unsigned char>(given[i]);
  }
  return diff == 0 && !expected.empty();
}

std::string encode_error(const ErrorInfo& error) {
  json::Value obj = json::Value::object();
  obj.set("code", json::Value(int{static_cast<uint16_t>(error.code)}));
  obj.set("name", error_code_name(error.code));
  obj.set("message", error.message);
  obj.set("fatal", error.fatal);
  return json::dump(obj);
}

ErrorInfo parse_error(std::string_view text) {
  const char* what = "ERROR";
  const json::Value obj = parse_json_body(text, what);
  if (!obj.is_object()) bad_message("ERROR body must be a JSON object");
  ErrorInfo e;
  e.code = static_cast<ErrorCode>(number_in(field(obj, what, "code"), what, "code", 0, 65535));
  e.message = string_in(field(obj, what, "message"), what, "message");
  const json::Value& fatal = field(obj, what, "fatal");
  if (!fatal.is_bool()) bad_message("ERROR: 'fatal' must be true or false");
  e.fatal = fatal.as_bool();
  return e;
}

// ---- JSON observations ----------------------------------------------------------------------

std::string step_result_to_json(const StepResultView& r) {
  json::Value obj = json::Value::object();
  json::Value types = json::Value::array(), rewards = json::Value::array();
  for (uint32_t i = 0; i < r.num_envs; ++i) {
    types.push_back(json::Value(int{r.step_types[i]}));
    rewards.push_back(json::Value(static_cast<double>(r.reward(i))));
  }
  auto rows = [](const TensorView& t) {
    json::Value out = json::Value::array();
    const uint64_t per_row = t.dims[0] ? t.numel() / t.dims[0] : 0;
    for (uint32_t row = 0; row < t.dims[0]; ++row) {
      json::Value values = json::Value::array();
      for (uint64_t k = row * per_row; k < (row + 1) * per_row; ++k) {
        if (t.dtype == TensorDType::kU8) {
          values.push_back(json::Value(int{t.data[k]}));
        } else {
          float v;
          std::memcpy(&v, t.data.data() + 4 * k, 4);
          values.push_back(json::Value(static_cast<double>(v)));
        }
      }
      out.push_back(std::move(values));
    }
    return out;
  };
  obj.set("step_types", std::move(types));
  obj.set("rewards", std::move(rewards));
  obj.set("observations", rows(r.observations));
  obj.set("final_observations", rows(r.final_observations));
  return json::dump(obj);
}

void step_result_from_json(std::string_view text, const Space& obs_space,
                           std::vector<uint8_t>& body) {
  const char* what = "STEP_RESULT (json)";
  const json::Value obj = parse_json_body(text, what);
  if (!obj.is_object()) bad_message("STEP_RESULT (json) must be a JSON object");
  const auto& types = field(obj, what, "step_types");
  const auto& rewards = field(obj, what, "rewards");
  const auto& obs = field(obj, what, "observations");
  const auto& fin = field(obj, what, "final_observations");
  if (!types.is_array() || !rewards.is_array() || !obs.is_array() || !fin.is_array() ||
      types.items().size() != rewards.items().size() ||
      types.items().size() != obs.items().size() || types.items().empty() ||
      fin.items().size() > obs.items().size())
    bad_message("STEP_RESULT (json): lists missing or of different lengths");
  const uint32_t n = static_cast<uint32_t>(types.items().size());
  const uint32_t k = static_cast<uint32_t>(fin.items().size());
  const size_t row_bytes = obs_space.bytes();
  const size_t numel = static_cast<size_t>(obs_space.numel());
  std::vector<uint32_t> dims{n};
  for (int64_t d : obs_space.shape) dims.push_back(static_cast<uint32_t>(d));
  const size_t th = tensor_header_bytes(static_cast<int>(dims.size()));
  body.assign(8 + pad4(n) + 4 * size_t{n} + 2 * th + (n + k) * row_bytes, 0);
  put_u32(body.data(), n);
  put_u32(body.data() + 4, k);
  for (uint32_t i = 0; i < n; ++i) {
    body[8 + i] = static_cast<uint8_t>(number_in(types.items()[i], what, "step_types", 0, 3));
    const float rew = bound_from(rewards.items()[i], what);
    std::memcpy(body.data() + 8 + pad4(n) + 4 * i, &rew, 4);
  }
  auto write_rows = [&](const json::Value& rows, uint32_t count, size_t offset) {
    dims[0] = count;
    write_tensor_header(body.data() + offset, tensor_dtype_of(obs_space.dtype), dims);
    uint8_t* out = body.data() + offset + th;
    for (const auto& row : rows.items()) {
      if (!row.is_array() || row.items().size() != numel)
        bad_message("STEP_RESULT (json): observation row of the wrong length");
      for (const auto& v : row.items()) {
        if (obs_space.dtype == DType::kU8) {
          *out++ = static_cast<uint8_t>(number_in(v, what, "observations", 0, 255));
        } else {
          const float f = bound_from(v, what);
          std::memcpy(out, &f, 4);
          out += 4;
        }
      }
    }
    return offset + th + count * row_bytes;
  };
  const size_t next = write_rows(obs, n, 8 + pad4(n) + 4 * size_t{n});
  write_rows(fin, k, next);
}

}  // namespace rl::wire
