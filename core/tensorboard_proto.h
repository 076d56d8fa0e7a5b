// Hand-written protobuf encoding of the TensorBoard records rlcade writes (no protoc, no
// libprotobuf): a minimal wire-format writer and builders for Event, Summary.Value and the
// hparams plugin's messages. Field numbers follow TensorBoard's published protos:
//   tensorboard/compat/proto/event.proto, summary.proto, tensor.proto, tensor_shape.proto,
//   tensorboard/plugins/hparams/api.proto, plugin_data.proto, google/protobuf/struct.proto.
// Proto3 semantics: fields holding their default (0, "", false) may be left out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace rl::tensorboard {

// Appends fields in protobuf wire format to a byte buffer.
class ProtoWriter {
 public:
  // Wire type 0: int32, int64, uint64, bool and enum fields (negative values take 10 bytes).
  ProtoWriter& varint(int field, uint64_t value);
  ProtoWriter& fixed64_double(int field, double value);  // Wire type 1: double.
  ProtoWriter& fixed32_float(int field, float value);    // Wire type 5: float.
  // Wire type 2: bytes, string and embedded message fields.
  ProtoWriter& bytes(int field, std::span<const uint8_t> value);
  ProtoWriter& string(int field, std::string_view value);
  ProtoWriter& message(int field, const ProtoWriter& value) { return bytes(field, value.data()); }

  const std::vector<uint8_t>& data() const { return data_; }

 private:
  void tag(int field, int wire_type);
  void raw_varint(uint64_t value);

  std::vector<uint8_t> data_;
};

// A hyperparameter value: number, bool or string (google.protobuf.Value kinds).
using HParamValue = std::variant<double, bool, std::string>;
using HParams = std::vector<std::pair<std::string, HParamValue>>;  // Name -> value, in order.

// hparams api.proto Status.
enum class SessionStatus { kUnknown = 0, kSuccess = 1, kFailure = 2, kRunning = 3 };

// Tags the hparams plugin looks for.
inline constexpr char kExperimentTag[] = "_hparams_/experiment";
inline constexpr char kSessionStartTag[] = "_hparams_/session_start_info";
inline constexpr char kSessionEndTag[] = "_hparams_/session_end_info";

// Summary.Value builders (each is one Summary.Value message).
// simple_value (float32) scalar.
ProtoWriter scalar_value(std::string_view tag, float value);
// Summary.Image of an encoded image (PNG, GIF, ...); colorspace 3 (RGB).
ProtoWriter image_value(std::string_view tag, int width, int height,
                        std::span<const uint8_t> encoded);
// Text plugin: a rank-0 DT_STRING tensor holding `text` (markdown).
ProtoWriter text_value(std::string_view tag, std::string_view text);
// hparams plugin records: HParamsPluginData (version 0) in the metadata's plugin content.
// The experiment lists every hparam (typed from its value) and every metric tag.
ProtoWriter hparams_experiment_value(const HParams& hparams, std::span<const std::string> metrics,
                                     double time_created_secs);
ProtoWriter hparams_session_start_value(const HParams& hparams, double start_time_secs);
ProtoWriter hparams_session_end_value(SessionStatus status, double end_time_secs);

// Whole Event messages.
// The first record of every event file: file_version "brain.Event:2".
std::vector<uint8_t> file_version_event(double wall_time);
// An Event holding one Summary with `values`.
std::vector<uint8_t> summary_event(double wall_time, int64_t step,
                                   std::span<const ProtoWriter> values);
// SessionLog START at `step`: TensorBoard drops events of earlier sessions at steps >= `step`
// (a resumed run repeats the steps after its last checkpoint).
std::vector<uint8_t> session_start_log_event(double wall_time, int64_t step);

}  // namespace rl::tensorboard
