#include "core/tensorboard_proto.h"

#include <bit>

namespace rl::tensorboard {
namespace {

// Wire types.
constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

// Field numbers, named <message>_<field>.
constexpr int kEventWallTime = 1, kEventStep = 2, kEventFileVersion = 3, kEventSummary = 5,
              kEventSessionLog = 7;
constexpr int kSessionLogStatus = 1, kSessionLogStart = 1;
constexpr int kSummaryValue = 1;
constexpr int kValueTag = 1, kValueSimpleValue = 2, kValueImage = 4, kValueTensor = 8,
              kValueMetadata = 9;
constexpr int kImageHeight = 1, kImageWidth = 2, kImageColorspace = 3, kImageEncoded = 4;
constexpr int kColorspaceRgb = 3;
constexpr int kMetadataPluginData = 1, kMetadataDataClass = 4;
constexpr int kDataClassTensor = 2;
constexpr int kPluginDataName = 1, kPluginDataContent = 2;
constexpr int kTensorDtype = 1, kTensorShape = 2, kTensorStringVal = 8;
constexpr int kDtypeString = 7;
constexpr int kHParamsDataExperiment = 2, kHParamsDataSessionStart = 3, kHParamsDataSessionEnd = 4;
constexpr int kExperimentTimeCreated = 3, kExperimentHParamInfos = 4, kExperimentMetricInfos = 5;
constexpr int kHParamInfoName = 1, kHParamInfoType = 4;
constexpr int kDataTypeString = 1, kDataTypeBool = 2, kDataTypeFloat64 = 3;
constexpr int kMetricInfoName = 1, kMetricNameTag = 2;
constexpr int kSessionStartHParams = 1, kSessionStartTime = 5;
constexpr int kMapEntryKey = 1, kMapEntryValue = 2;
constexpr int kSessionEndStatus = 1, kSessionEndTime = 2;
// google.protobuf.Value.
constexpr int kStructNumberValue = 2, kStructStringValue = 3, kStructBoolValue = 4;

ProtoWriter plugin_metadata(std::string_view plugin_name, std::span<const uint8_t> content) {
  ProtoWriter plugin_data;
  plugin_data.string(kPluginDataName, plugin_name);
  if (!content.empty()) plugin_data.bytes(kPluginDataContent, content);
  ProtoWriter metadata;
  metadata.message(kMetadataPluginData, plugin_data);
  metadata.varint(kMetadataDataClass, kDataClassTensor);
  return metadata;
}

// A Summary.Value with plugin metadata and no value (the hparams plugin's convention).
ProtoWriter hparams_value(std::string_view tag, int data_field, const ProtoWriter& data) {
  ProtoWriter plugin_data;  // HParamsPluginData, version 0 (left out).
  plugin_data.message(data_field, data);
  ProtoWriter value;
  value.string(kValueTag, tag);
  value.message(kValueMetadata, plugin_metadata("hparams", plugin_data.data()));
  return value;
}

ProtoWriter struct_value(const HParamValue& value) {
  ProtoWriter out;
  if (const double* number = std::get_if<double>(&value)) {
    out.fixed64_double(kStructNumberValue, *number);
  } else if (const bool* flag = std::get_if<bool>(&value)) {
    out.varint(kStructBoolValue, *flag ? 1 : 0);  // A oneof member: written even when false.
  } else {
    out.string(kStructStringValue, std::get<std::string>(value));
  }
  return out;
}

int data_type(const HParamValue& value) {
  if (std::holds_alternative<double>(value)) return kDataTypeFloat64;
  if (std::holds_alternative<bool>(value)) return kDataTypeBool;
  return kDataTypeString;
}

std::vector<uint8_t> make_event(double wall_time, int64_t step, int what_field,
                                const ProtoWriter& what) {
  ProtoWriter event;
  event.fixed64_double(kEventWallTime, wall_time);
  if (step != 0) event.varint(kEventStep, static_cast<uint64_t>(step));
  event.message(what_field, what);
  return event.data();
}

}  // namespace

void ProtoWriter::raw_varint(uint64_t value) {
  while (value >= 0x80) {
    data_.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  data_.push_back(static_cast<uint8_t>(value));
}

void ProtoWriter::tag(int field, int wire_type) {
  raw_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

ProtoWriter& ProtoWriter::varint(int field, uint64_t value) {
  tag(field, kVarint);
  raw_varint(value);
  return *this;
}

ProtoWriter& ProtoWriter::fixed64_double(int field, double value) {
  tag(field, kFixed64);
  const auto bits = std::bit_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) data_.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  return *this;
}

ProtoWriter& ProtoWriter::fixed32_float(int field, float value) {
  tag(field, kFixed32);
  const auto bits = std::bit_cast<uint32_t>(value);
  for (int i = 0; i < 4; ++i) data_.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  return *this;
}

ProtoWriter& ProtoWriter::bytes(int field, std::span<const uint8_t> value) {
  tag(field, kLengthDelimited);
  raw_varint(value.size());
  data_.insert(data_.end(), value.begin(), value.end());
  return *this;
}

ProtoWriter& ProtoWriter::string(int field, std::string_view value) {
  return bytes(field, {reinterpret_cast<const uint8_t*>(value.data()), value.size()});
}

ProtoWriter scalar_value(std::string_view tag, float value) {
  ProtoWriter out;
  out.string(kValueTag, tag);
  out.fixed32_float(kValueSimpleValue, value);
  return out;
}

ProtoWriter image_value(std::string_view tag, int width, int height,
                        std::span<const uint8_t> encoded) {
  ProtoWriter image;
  image.varint(kImageHeight, static_cast<uint64_t>(height));
  image.varint(kImageWidth, static_cast<uint64_t>(width));
  image.varint(kImageColorspace, kColorspaceRgb);
  image.bytes(kImageEncoded, encoded);
  ProtoWriter out;
  out.string(kValueTag, tag);
  out.message(kValueImage, image);
  return out;
}

ProtoWriter text_value(std::string_view tag, std::string_view text) {
  ProtoWriter tensor;
  tensor.varint(kTensorDtype, kDtypeString);
  tensor.message(kTensorShape, ProtoWriter());  // Rank 0: no dims.
  tensor.string(kTensorStringVal, text);
  ProtoWriter out;
  out.string(kValueTag, tag);
  out.message(kValueMetadata, plugin_metadata("text", {}));  // TextPluginData version 0: empty.
  out.message(kValueTensor, tensor);
  return out;
}

ProtoWriter hparams_experiment_value(const HParams& hparams, std::span<const std::string> metrics,
                                     double time_created_secs) {
  ProtoWriter experiment;
  experiment.fixed64_double(kExperimentTimeCreated, time_created_secs);
  for (const auto& [name, value] : hparams) {
    ProtoWriter info;
    info.string(kHParamInfoName, name);
    info.varint(kHParamInfoType, static_cast<uint64_t>(data_type(value)));
    experiment.message(kExperimentHParamInfos, info);
  }
  for (const std::string& tag : metrics) {
    ProtoWriter metric_name;
    metric_name.string(kMetricNameTag, tag);
    ProtoWriter info;
    info.message(kMetricInfoName, metric_name);
    experiment.message(kExperimentMetricInfos, info);
  }
  return hparams_value(kExperimentTag, kHParamsDataExperiment, experiment);
}

ProtoWriter hparams_session_start_value(const HParams& hparams, double start_time_secs) {
  ProtoWriter start;
  for (const auto& [name, value] : hparams) {
    ProtoWriter entry;
    entry.string(kMapEntryKey, name);
    entry.message(kMapEntryValue, struct_value(value));
    start.message(kSessionStartHParams, entry);
  }
  start.fixed64_double(kSessionStartTime, start_time_secs);
  return hparams_value(kSessionStartTag, kHParamsDataSessionStart, start);
}

ProtoWriter hparams_session_end_value(SessionStatus status, double end_time_secs) {
  ProtoWriter end;
  end.varint(kSessionEndStatus, static_cast<uint64_t>(status));
  end.fixed64_double(kSessionEndTime, end_time_secs);
  return hparams_value(kSessionEndTag, kHParamsDataSessionEnd, end);
}

std::vector<uint8_t> file_version_event(double wall_time) {
  ProtoWriter event;
  event.fixed64_double(kEventWallTime, wall_time);
  event.string(kEventFileVersion, "brain.Event:2");
  return event.data();
}

std::vector<uint8_t> summary_event(double wall_time, int64_t step,
                                   std::span<const ProtoWriter> values) {
  ProtoWriter summary;
  for (const ProtoWriter& value : values) summary.message(kSummaryValue, value);
  return make_event(wall_time, step, kEventSummary, summary);
}

std::vector<uint8_t> session_start_log_event(double wall_time, int64_t step) {
  ProtoWriter log;
  log.varint(kSessionLogStatus, kSessionLogStart);
  return make_event(wall_time, step, kEventSessionLog, log);
}

}  // namespace rl::tensorboard
