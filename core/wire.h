// Codec of the rlcade wire protocol (docs/protocol.md): frame headers, typed tensors, the
// binary RESET/STEP/STEP_RESULT bodies and the JSON HELLO/WELCOME/ERROR bodies. Pure
// functions over byte spans, no sockets: envs/remote and apps/rlserve do the I/O.
//
// Every decoder validates sizes before reading or allocating and throws WireError, which
// carries the protocol error code to send back and whether the connection must be closed.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/spaces.h"

namespace rl::wire {

static_assert(std::endian::native == std::endian::little,
              "the wire codec copies little-endian values directly");

inline constexpr uint32_t kMagic = 0x57434C52;  // the bytes "RLCW"
inline constexpr size_t kHeaderBytes = 16;
inline constexpr uint16_t kVersionMajor = 1;
// 1.1 added ACT / ACT_RESULT (a served policy) and the bad_observation error; a 1.0 peer is
// served exactly as before.
inline constexpr uint16_t kVersionMinor = 1;
inline constexpr uint32_t kDefaultMaxBodyBytes = 64u << 20;
inline constexpr uint32_t kMinMaxBodyBytes = 64u << 10;  // every peer accepts 64 KiB bodies
inline constexpr uint32_t kMaxHelloBytes = 64u << 10;    // HELLO bodies are small
inline constexpr uint32_t kMaxPingBytes = 1024;
inline constexpr int kMaxRank = 8;

enum class MessageType : uint8_t {
  kHello = 1,       // client -> server, JSON
  kWelcome = 2,     // server -> client, JSON
  kReset = 3,       // client -> server, binary (16 bytes)
  kStep = 4,        // client -> server, binary (one action tensor)
  kStepResult = 5,  // server -> client, binary (or JSON when negotiated)
  kError = 6,       // either way, JSON
  kPing = 7,        // either way, opaque payload of at most kMaxPingBytes
  kPong = 8,        // reply to PING with the same payload
  kClose = 9,       // client -> server; the server answers CLOSE and closes
  kAct = 10,        // client -> server, binary: observations [+ legal-action mask] (1.1)
  kActResult = 11,  // server -> client, binary: one action tensor (1.1)
};
// "HELLO", "STEP", ...; "UNKNOWN(n)" for other values.
std::string message_type_name(uint8_t type);

// Frame flag: the body is JSON instead of binary (STEP_RESULT with observation_encoding json).
inline constexpr uint8_t kFlagJsonBody = 1;

enum class ErrorCode : uint16_t {
  kBadFrame = 1,          // wrong magic or reserved bits: framing is lost (fatal)
  kFrameTooLarge = 2,     // declared body length above the receiver's maximum (fatal)
  kBadMessage = 3,        // body does not decode for its message type
  kBadJson = 4,           // handshake or error body is not valid JSON
  kVersionMismatch = 5,   // protocol major versions differ (fatal)
  kUnauthorized = 6,      // missing or wrong token (fatal)
  kBadAction = 7,         // action tensor has the wrong dtype or shape
  kActionOutOfRange = 8,  // action value outside the action space
  kInvalidState = 9,      // e.g. STEP before RESET, or a second HELLO
  kEnvFailure = 10,       // the env threw while stepping
  kTimeout = 11,          // a read deadline passed (fatal)
  kUnsupported = 12,      // unknown message type or option
  kBusy = 13,             // the server is at its connection limit (fatal)
  kInternal = 14,
  kBadObservation = 15,  // ACT observations or legal-action mask do not fit the policy (1.1)
};
// "bad_frame", "frame_too_large", ...; "unknown" for other values.
const char* error_code_name(ErrorCode code);

class WireError : public std::runtime_error {
 public:
  WireError(ErrorCode code, const std::string& message, bool fatal)
      : std::runtime_error(message), code_(code), fatal_(fatal) {}
  ErrorCode code() const { return code_; }
  bool fatal() const { return fatal_; }

 private:
  ErrorCode code_;
  bool fatal_;
};

// ---- frames ---------------------------------------------------------------------------------

// Header layout (little-endian): u32 magic, u32 body_bytes, u8 type, u8 flags, u16 reserved
// (zero), u32 request_id. Replies echo the request id of the request they answer.
struct FrameHeader {
  uint8_t type = 0;  // a MessageType value; unknown values decode fine and are refused later
  uint8_t flags = 0;
  uint32_t body_bytes = 0;
  uint32_t request_id = 0;
};

void encode_header(const FrameHeader& header, std::span<uint8_t, kHeaderBytes> out);
// Validates magic, reserved bits and body_bytes <= max_body_bytes (before anyone allocates the
// body). Throws a fatal WireError (kBadFrame or kFrameTooLarge).
FrameHeader decode_header(std::span<const uint8_t, kHeaderBytes> bytes, uint32_t max_body_bytes);
// Replaces `out` with header + body, ready for a single write.
void build_frame(std::vector<uint8_t>& out, MessageType type, uint32_t request_id,
                 std::span<const uint8_t> body, uint8_t flags = 0);
void build_frame(std::vector<uint8_t>& out, MessageType type, uint32_t request_id,
                 std::string_view body, uint8_t flags = 0);

// ---- tensors --------------------------------------------------------------------------------

// Tensor encoding: u8 dtype, u8 rank (<= kMaxRank), u16 reserved (zero), u32 dims[rank], then
// the elements, row-major little-endian, no padding.
enum class TensorDType : uint8_t { kU8 = 1, kI64 = 2, kF32 = 3 };
size_t tensor_dtype_size(TensorDType dtype);
// "u8", "i64", "f32"; "unknown(n)" for other values.
std::string tensor_dtype_name(uint8_t dtype);
TensorDType tensor_dtype_of(DType dtype);

struct TensorView {
  TensorDType dtype = TensorDType::kU8;
  int rank = 0;
  std::array<uint32_t, kMaxRank> dims{};
  std::span<const uint8_t> data;  // numel * element size bytes, unaligned: read with memcpy

  uint64_t numel() const;
  std::string describe() const;  // e.g. "f32[2,4]"
};

inline size_t tensor_header_bytes(int rank) { return 4 + 4 * static_cast<size_t>(rank); }
// Parses the tensor at the start of `bytes`; returns the bytes it spans. Throws WireError
// (kBadMessage) on an unknown dtype, a rank above kMaxRank, or data past the end.
size_t parse_tensor(std::span<const uint8_t> bytes, TensorView& out);
// Writes a tensor header at `out` (tensor_header_bytes(dims.size()) bytes).
void write_tensor_header(uint8_t* out, TensorDType dtype, std::span<const uint32_t> dims);

// ---- RESET ----------------------------------------------------------------------------------

// Body (16 bytes): u32 flags (bit 0: seed present), u32 reserved, u64 seed. Env i of the
// connection is reset with seed + i; without a seed each env continues its random stream.
struct ResetRequest {
  bool has_seed = false;
  uint64_t seed = 0;
};
inline constexpr size_t kResetBodyBytes = 16;
std::array<uint8_t, kResetBodyBytes> encode_reset(const ResetRequest& request);
ResetRequest decode_reset(std::span<const uint8_t> body);

// ---- STEP -----------------------------------------------------------------------------------

// Body: one tensor with the actions of all N envs: i64[N] for Discrete action spaces,
// f32[N, shape...] for Box ones.
std::vector<uint32_t> action_dims(const Space& action_space, uint32_t num_envs);
// Parses a STEP body and checks it against the action space: dtype and shape (kBadAction),
// values (kActionOutOfRange: discrete index outside [0, n), Box value non-finite or outside
// its bounds). Non-fatal errors: the connection stays usable.
TensorView decode_step(std::span<const uint8_t> body, const Space& action_space, uint32_t num_envs);
// The checks of decode_step on a parsed action tensor of `rows` rows, for other messages that
// carry actions: a wrong dtype or shape throws `shape_code`, a value outside the space
// `range_code` (non-fatal); messages start with `what` (e.g. "STEP actions").
void check_action_tensor(const TensorView& actions, const Space& action_space, uint32_t rows,
                         const std::string& what, ErrorCode shape_code, ErrorCode range_code);

// ---- ACT and ACT_RESULT (protocol 1.1, servers that declare the "act" capability) ----------

// ACT body: tensor observations [B, obs shape...] in the observation space's dtype, then, only
// for Discrete action spaces and only if wanted, tensor legal u8[B, n] (nonzero = legal, each
// row with at least one legal action). ACT_RESULT body: one tensor of B actions, laid out as a
// STEP body: i64[B] (Discrete) or f32[B, action shape...] (Box).
struct ActRequest {
  uint32_t batch = 0;
  TensorView observations;
  TensorView legal;  // rank 0 and no data when the request has no mask
  bool has_legal() const { return legal.rank != 0; }
};
// Parses an ACT body and checks it against the policy's spaces. Malformed tensors or trailing
// bytes: kBadMessage; observations of the wrong dtype or shape, B of 0 or above `max_batch`, a
// mask for a Box action space or of the wrong dtype, shape or content: kBadObservation. Both
// non-fatal. Observation values are not range-checked.
ActRequest decode_act(std::span<const uint8_t> body, const Space& observation_space,
                      const Space& action_space, uint32_t max_batch);
// Bytes of an ACT body for `batch` observations, with or without a mask.
size_t act_body_bytes(const Space& observation_space, const Space& action_space, uint32_t batch,
                      bool with_legal);
// Builds a whole ACT frame in `out` (header included) from `batch` observations laid out
// back to back (observation_space.bytes() each) and an optional mask (batch * n bytes). Throws
// std::invalid_argument when the sizes do not match.
void build_act_frame(std::vector<uint8_t>& out, uint32_t request_id, const Space& observation_space,
                     const Space& action_space, uint32_t batch,
                     std::span<const uint8_t> observations, std::span<const uint8_t> legal = {});

// Bytes of an ACT_RESULT body for `batch` actions.
size_t act_result_body_bytes(const Space& action_space, uint32_t batch);
// Sizes `out` for a whole ACT_RESULT frame of `batch` actions, writes the frame and tensor
// headers and returns the action data region for the caller to fill (i64 or f32 values).
std::span<uint8_t> begin_act_result_frame(std::vector<uint8_t>& out, uint32_t request_id,
                                          const Space& action_space, uint32_t batch);
// Parses an ACT_RESULT body and checks it holds `batch` actions of `action_space`, each within
// the space (a server that answers otherwise is broken: kBadMessage).
TensorView decode_act_result(std::span<const uint8_t> body, const Space& action_space,
                             uint32_t batch);

// ---- STEP_RESULT ----------------------------------------------------------------------------

// What a step did to one env. After kTerminated/kTruncated the server has already reset the
// env: the observation row is the first one of the next episode and the last observation of
// the finished episode is in the final-observations tensor (rows in env order).
enum class StepType : uint8_t { kFirst = 0, kMid = 1, kTerminated = 2, kTruncated = 3 };
const char* step_type_name(StepType type);

// Body: u32 num_envs, u32 num_final, u8 step_types[N] zero-padded to a multiple of 4,
// f32 rewards[N], tensor observations [N, obs shape...], tensor final_observations
// [num_final, obs shape...]. A RESET is answered with the same body, all step types kFirst.
struct StepResultView {
  uint32_t num_envs = 0;
  uint32_t num_final = 0;
  std::span<const uint8_t> step_types;
  std::span<const uint8_t> rewards;  // num_envs little-endian f32, unaligned
  TensorView observations;
  TensorView final_observations;

  StepType step_type(uint32_t env) const { return static_cast<StepType>(step_types[env]); }
  float reward(uint32_t env) const;
};
// Decodes and checks internal consistency: known step types, num_final equal to the number of
// terminated/truncated entries, observation tensors [N, ...] and [num_final, ...] with the same
// dtype and inner shape. Throws WireError (kBadMessage).
StepResultView parse_step_result(std::span<const uint8_t> body);
// Checks the decoded observations against the declared space and env count (kBadMessage).
void check_step_result(const StepResultView& result, const Space& observation_space,
                       uint32_t num_envs);

// Builds STEP_RESULT frames (header included) in one preallocated buffer: envs write their
// observations straight into it, so a step allocates nothing and goes out in one write.
class StepResultWriter {
 public:
  StepResultWriter(uint32_t num_envs, const Space& observation_space);

  // Starts a new reply (forgets the final observations of the previous one).
  void begin();
  std::span<uint8_t> observation(uint32_t env);
  void set(uint32_t env, StepType type, float reward);
  // Appends the current observation row of `env` to the final observations; call it before
  // resetting the env. At most one per env and reply.
  void add_final(uint32_t env);
  // Completes counts and headers; returns the whole frame.
  std::span<const uint8_t> finish(uint32_t request_id);
  // The body of the last finished frame.
  std::span<const uint8_t> body() const;

 private:
  uint32_t num_envs_;
  size_t obs_bytes_;
  std::vector<uint32_t> obs_dims_;  // [N, shape...]
  TensorDType dtype_;
  size_t rewards_offset_ = 0;
  size_t obs_tensor_offset_ = 0;
  size_t final_tensor_offset_ = 0;
  uint32_t num_final_ = 0;
  size_t frame_bytes_ = 0;
  std::vector<uint8_t> frame_;
};

// JSON form of a STEP_RESULT body (observation_encoding "json"): {"step_types":[...],
// "rewards":[...], "observations":[[...],...], "final_observations":[[...],...]} with
// observations flattened row-major. Costly; exists so the binary path can be compared.
std::string step_result_to_json(const StepResultView& result);
// Converts the JSON form back into the binary body (into `body`) for parse_step_result.
void step_result_from_json(std::string_view text, const Space& observation_space,
                           std::vector<uint8_t>& body);

// ---- handshake and errors (JSON) ------------------------------------------------------------

// Client -> server. Unknown keys are ignored (later minor versions may add some); known keys
// must have the documented types.
struct Hello {
  uint16_t version_major = kVersionMajor;
  uint16_t version_minor = kVersionMinor;
  std::string token;                               // empty: none sent
  uint32_t max_body_bytes = kDefaultMaxBodyBytes;  // largest body this client accepts
  uint32_t num_envs = 0;                        // envs wanted on this connection; 0: server default
  std::string observation_encoding = "binary";  // "binary" or "json"
  std::vector<std::string> capabilities;
  std::string client_name;
};
std::string encode_hello(const Hello& hello);
// Throws WireError: kBadJson for malformed JSON, kBadMessage for missing/mistyped fields.
Hello parse_hello(std::string_view text);

// Server -> client: what this connection serves.
struct Welcome {
  uint16_t version_major = kVersionMajor;
  uint16_t version_minor = kVersionMinor;
  std::string env_id;
  std::string description;
  uint32_t num_envs = 1;
  Space observation_space;
  Space action_space;
  float reward_min = -1e9f;
  float reward_max = 1e9f;
  int64_t max_episode_steps = 0;
  uint32_t max_body_bytes = kDefaultMaxBodyBytes;  // largest body this server accepts
  std::string observation_encoding = "binary";
  std::vector<std::string> capabilities;
  // Policy servers (capability "act", protocol 1.1): the largest ACT batch; 0 (not sent) for
  // env servers.
  uint32_t max_act_batch = 0;
};
std::string encode_welcome(const Welcome& welcome);
Welcome parse_welcome(std::string_view text);

// Major versions must match (else a fatal kVersionMismatch); returns the agreed minor version,
// the lower of the two.
uint16_t negotiate_minor(uint16_t peer_major, uint16_t peer_minor);

// Compares secrets in time independent of where they differ.
bool tokens_equal(std::string_view expected, std::string_view given);

struct ErrorInfo {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  bool fatal = false;
};
std::string encode_error(const ErrorInfo& error);
ErrorInfo parse_error(std::string_view text);

}  // namespace rl::wire
