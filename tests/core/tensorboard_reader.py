#!/usr/bin/python3
"""Independent reader of rlcade's TensorBoard event files, for the tests.

Decodes a run folder's events.out.tfevents.* files with Google's protobuf runtime (Debian's
python3-protobuf) and a schema built here from the field numbers TensorBoard publishes
(tensorboard/compat/proto/event.proto, summary.proto, tensor.proto, tensor_shape.proto;
tensorboard/plugins/hparams/api.proto, plugin_data.proto), with no generated code and no
protoc. It checks every TFRecord CRC (CRC-32C computed here bit by bit), then that the
scalars equal metrics.csv cell by cell, and what the options ask for.

  /usr/bin/python3 tensorboard_reader.py RUN_DIR [--hparam agent.lr=0.001 ...]
      [--status success|failure|none] [--gif-steps 1000,2000] [--config-contains TEXT]

Exit status 0 and one "ok: ..." line when everything holds; otherwise 1 and the first problem.
"""

import argparse
import csv
import glob
import math
import os
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2

F = descriptor_pb2.FieldDescriptorProto
OPTIONAL, REPEATED = F.LABEL_OPTIONAL, F.LABEL_REPEATED


# ---- CRC-32C (Castagnoli), bitwise: no shared code with the C++ table version.
def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# ---- Schema, from the published field numbers.
def field(name, number, kind, label=OPTIONAL, type_name=None, oneof=None):
    f = F(name=name, number=number, type=kind, label=label)
    if type_name:
        f.type_name = type_name
    if oneof is not None:
        f.oneof_index = oneof
    return f


def message(name, fields, nested=(), oneofs=(), enums=(), map_entry=False):
    m = descriptor_pb2.DescriptorProto(name=name)
    m.field.extend(fields)
    m.nested_type.extend(nested)
    m.enum_type.extend(enums)
    for oneof in oneofs:
        m.oneof_decl.add(name=oneof)
    if map_entry:
        m.options.map_entry = True
    return m


def enum(name, values):
    e = descriptor_pb2.EnumDescriptorProto(name=name)
    for value_name, number in values:
        e.value.add(name=value_name, number=number)
    return e


def build_schema():
    pool = descriptor_pool.DescriptorPool()
    struct_file = descriptor_pb2.FileDescriptorProto()
    struct_pb2.DESCRIPTOR.CopyToProto(struct_file)
    pool.Add(struct_file)

    tb = descriptor_pb2.FileDescriptorProto(name="rlcade_test/tensorboard.proto",
                                            package="tb", syntax="proto3")
    tb.dependency.append("google/protobuf/struct.proto")
    tb.message_type.extend([
        message("TensorShapeProto", [field("dim", 2, F.TYPE_MESSAGE, REPEATED, ".tb.TensorShapeProto.Dim"),
                                     field("unknown_rank", 3, F.TYPE_BOOL)],
                nested=[message("Dim", [field("size", 1, F.TYPE_INT64), field("name", 2, F.TYPE_STRING)])]),
        message("TensorProto", [field("dtype", 1, F.TYPE_ENUM, type_name=".tb.DataType"),
                                field("tensor_shape", 2, F.TYPE_MESSAGE, type_name=".tb.TensorShapeProto"),
                                field("version_number", 3, F.TYPE_INT32),
                                field("tensor_content", 4, F.TYPE_BYTES),
                                field("float_val", 5, F.TYPE_FLOAT, REPEATED),
                                field("double_val", 6, F.TYPE_DOUBLE, REPEATED),
                                field("string_val", 8, F.TYPE_BYTES, REPEATED)]),
        message("SummaryMetadata", [field("plugin_data", 1, F.TYPE_MESSAGE, type_name=".tb.SummaryMetadata.PluginData"),
                                    field("display_name", 2, F.TYPE_STRING),
                                    field("summary_description", 3, F.TYPE_STRING),
                                    field("data_class", 4, F.TYPE_INT32)],
                nested=[message("PluginData", [field("plugin_name", 1, F.TYPE_STRING),
                                               field("content", 2, F.TYPE_BYTES)])]),
        message("Summary", [field("value", 1, F.TYPE_MESSAGE, REPEATED, ".tb.Summary.Value")],
                nested=[
                    message("Image", [field("height", 1, F.TYPE_INT32), field("width", 2, F.TYPE_INT32),
                                      field("colorspace", 3, F.TYPE_INT32),
                                      field("encoded_image_string", 4, F.TYPE_BYTES)]),
                    message("Value", [field("node_name", 7, F.TYPE_STRING),
                                      field("tag", 1, F.TYPE_STRING),
                                      field("metadata", 9, F.TYPE_MESSAGE, type_name=".tb.SummaryMetadata"),
                                      field("simple_value", 2, F.TYPE_FLOAT, oneof=0),
                                      field("obsolete_old_style_histogram", 3, F.TYPE_BYTES, oneof=0),
                                      field("image", 4, F.TYPE_MESSAGE, type_name=".tb.Summary.Image", oneof=0),
                                      field("tensor", 8, F.TYPE_MESSAGE, type_name=".tb.TensorProto", oneof=0)],
                            oneofs=["value"]),
                ]),
        message("SessionLog", [field("status", 1, F.TYPE_INT32), field("checkpoint_path", 2, F.TYPE_STRING),
                               field("msg", 3, F.TYPE_STRING)]),
        message("Event", [field("wall_time", 1, F.TYPE_DOUBLE), field("step", 2, F.TYPE_INT64),
                          field("file_version", 3, F.TYPE_STRING, oneof=0),
                          field("graph_def", 4, F.TYPE_BYTES, oneof=0),
                          field("summary", 5, F.TYPE_MESSAGE, type_name=".tb.Summary", oneof=0),
                          field("session_log", 7, F.TYPE_MESSAGE, type_name=".tb.SessionLog", oneof=0)],
                oneofs=["what"]),
        # tensorboard/plugins/hparams
        message("MetricName", [field("group", 1, F.TYPE_STRING), field("tag", 2, F.TYPE_STRING)]),
        message("MetricInfo", [field("name", 1, F.TYPE_MESSAGE, type_name=".tb.MetricName"),
                               field("display_name", 3, F.TYPE_STRING),
                               field("description", 4, F.TYPE_STRING),
                               field("dataset_type", 5, F.TYPE_INT32)]),
        message("HParamInfo", [field("name", 1, F.TYPE_STRING), field("display_name", 2, F.TYPE_STRING),
                               field("description", 3, F.TYPE_STRING), field("type", 4, F.TYPE_INT32)]),
        message("Experiment", [field("name", 6, F.TYPE_STRING), field("description", 1, F.TYPE_STRING),
                               field("user", 2, F.TYPE_STRING), field("time_created_secs", 3, F.TYPE_DOUBLE),
                               field("hparam_infos", 4, F.TYPE_MESSAGE, REPEATED, ".tb.HParamInfo"),
                               field("metric_infos", 5, F.TYPE_MESSAGE, REPEATED, ".tb.MetricInfo")]),
        message("SessionStartInfo", [
            field("hparams", 1, F.TYPE_MESSAGE, REPEATED, ".tb.SessionStartInfo.HparamsEntry"),
            field("model_uri", 2, F.TYPE_STRING), field("monitor_url", 3, F.TYPE_STRING),
            field("group_name", 4, F.TYPE_STRING), field("start_time_secs", 5, F.TYPE_DOUBLE)],
            nested=[message("HparamsEntry", [field("key", 1, F.TYPE_STRING),
                                             field("value", 2, F.TYPE_MESSAGE, type_name=".google.protobuf.Value")],
                            map_entry=True)]),
        message("SessionEndInfo", [field("status", 1, F.TYPE_INT32), field("end_time_secs", 2, F.TYPE_DOUBLE)]),
        message("HParamsPluginData", [
            field("version", 1, F.TYPE_INT32),
            field("experiment", 2, F.TYPE_MESSAGE, type_name=".tb.Experiment", oneof=0),
            field("session_start_info", 3, F.TYPE_MESSAGE, type_name=".tb.SessionStartInfo", oneof=0),
            field("session_end_info", 4, F.TYPE_MESSAGE, type_name=".tb.SessionEndInfo", oneof=0)],
            oneofs=["data"]),
    ])
    tb.enum_type.extend([enum("DataType", [("DT_INVALID", 0), ("DT_FLOAT", 1), ("DT_DOUBLE", 2),
                                           ("DT_STRING", 7)])])
    pool.Add(tb)
    factory = message_factory.MessageFactory(pool)
    get = getattr(message_factory, "GetMessageClass", None)
    return {name: (get or factory.GetPrototype)(pool.FindMessageTypeByName("tb." + name))
            for name in ["Event", "HParamsPluginData"]}


SCHEMA = build_schema()
DT_STRING = 7
COLORSPACE_RGB = 3
STATUS = {"success": 1, "failure": 2}
HPARAM_TYPE = {bool: 2, float: 3, str: 1}  # api.proto DataType


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


# ---- TFRecord framing.
def read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    records, offset = [], 0
    while offset < len(data):
        check(offset + 12 <= len(data), f"{path}: record header cut short at byte {offset}")
        header = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        check(length_crc == masked_crc32c(header), f"{path}: length CRC mismatch at byte {offset}")
        start, end = offset + 12, offset + 12 + length
        check(end + 4 <= len(data), f"{path}: record data cut short at byte {offset}")
        (data_crc,) = struct.unpack("<I", data[end:end + 4])
        check(data_crc == masked_crc32c(data[start:end]), f"{path}: data CRC mismatch at byte {offset}")
        records.append(data[start:end])
        offset = end + 4
    return records


# ---- What metrics.csv columns become (the documented mapping, written again here).
def expected_tag(column):
    if column in ("wall_seconds", "steps_per_second"):
        return "perf/" + column
    if column.startswith("eval_"):
        return "eval/" + column[len("eval_"):]
    if column == "loss":
        return "loss/total"
    if "loss" in column:
        return "loss/" + column
    return {"return_mean": "train/episode_return", "length_mean": "train/episode_length"}.get(
        column, "train/" + column)


def float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def parse_hparam(text):
    key, _, value = text.partition("=")
    if value in ("true", "false"):
        return key, value == "true"
    try:
        return key, float(value)
    except ValueError:
        return key, value


def value_of(proto_value):
    kind = proto_value.WhichOneof("kind")
    check(kind in ("number_value", "string_value", "bool_value"), f"hparam value of kind {kind}")
    return getattr(proto_value, kind)


class EventLog:
    """Everything the event files of one run hold, by kind."""

    def __init__(self, run_dir):
        self.files = sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")))
        check(self.files, f"{run_dir}: no events.out.tfevents.* file")
        self.records = 0
        self.scalars = {}    # (tag, step) -> values, in order (rows may share a step)
        self.images = {}     # step -> Summary.Image
        self.hparams = {}    # tag -> HParamsPluginData
        self.texts = {}      # tag -> text
        for path in self.files:
            self.read_file(path)

    def read_file(self, path):
        records = read_records(path)
        check(records, f"{path}: empty")
        for index, record in enumerate(records):
            event = SCHEMA["Event"]()
            event.ParseFromString(record)
            self.records += 1
            if index == 0:
                check(event.file_version == "brain.Event:2",
                      f"{path}: first record's file_version is {event.file_version!r}")
                check(event.wall_time > 1e9, f"{path}: first record's wall_time {event.wall_time}")
                continue
            check(event.WhichOneof("what") in ("summary", "session_log"),
                  f"{path}: record {index} holds {event.WhichOneof('what')}")
            for value in event.summary.value:
                self.add_value(path, event.step, value)

    def add_value(self, path, step, value):
        kind = value.WhichOneof("value")
        plugin = value.metadata.plugin_data.plugin_name
        if kind == "simple_value":
            self.scalars.setdefault((value.tag, step), []).append(value.simple_value)
        elif kind == "image":
            self.images[step] = value.image
        elif plugin == "hparams":
            data = SCHEMA["HParamsPluginData"]()
            data.ParseFromString(value.metadata.plugin_data.content)
            self.hparams[value.tag] = data
        elif plugin == "text":
            check(kind == "tensor" and value.tensor.dtype == DT_STRING,
                  f"{path}: text {value.tag} is not a DT_STRING tensor")
            check(len(value.tensor.tensor_shape.dim) == 0, f"{path}: text {value.tag} is not rank 0")
            self.texts[value.tag] = value.tensor.string_val[0].decode()
        else:
            raise Failure(f"{path}: unexpected value {value.tag} ({kind}, plugin {plugin!r})")


def check_scalars(log, run_dir):
    with open(os.path.join(run_dir, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    check(rows, "metrics.csv has no rows")
    unread = {key: list(values) for key, values in log.scalars.items()}
    for row in rows:
        step = int(row["step"])
        for column, text in row.items():
            if column == "step" or text == "":
                continue
            key = (expected_tag(column), step)
            check(unread.get(key), f"no scalar {key[0]} at step {step} (metrics.csv {column})")
            value = unread[key].pop(0)
            # metrics.csv keeps 6 significant digits, the event file a float32.
            check(same_float(value, float32(float(text))) or
                  math.isclose(value, float(text), rel_tol=1e-5),
                  f"{key[0]} at step {step} is {value}, metrics.csv says {text}")
    extra = {key: values for key, values in unread.items() if values}
    check(not extra, f"scalars not in metrics.csv: {extra}")
    return rows


def check_hparams(log, expected, status, columns):
    for tag in ("_hparams_/experiment", "_hparams_/session_start_info"):
        check(tag in log.hparams, f"no {tag} record")
    start = log.hparams["_hparams_/session_start_info"].session_start_info
    hparams = {key: value_of(start.hparams[key]) for key in start.hparams}
    check(start.start_time_secs > 1e9, f"session start time {start.start_time_secs}")
    for key, value in expected:
        check(key in hparams, f"hparam {key} missing; have {sorted(hparams)}")
        check(hparams[key] == value, f"hparam {key} is {hparams[key]!r}, expected {value!r}")
    experiment = log.hparams["_hparams_/experiment"].experiment
    infos = {info.name: info.type for info in experiment.hparam_infos}
    check(set(infos) == set(hparams), "experiment hparams differ from the session's")
    for key, value in hparams.items():
        check(infos[key] == HPARAM_TYPE[type(value)], f"hparam {key} declared as type {infos[key]}")
    metric_tags = {info.name.tag for info in experiment.metric_infos}
    expected_tags = {expected_tag(c) for c in columns if c != "step"}
    check(metric_tags == expected_tags, f"experiment metrics {sorted(metric_tags)}")
    end = log.hparams.get("_hparams_/session_end_info")
    if status == "none":
        check(end is None, "a session end record for a stopped run")
    else:
        check(end is not None, "no session end record")
        check(end.session_end_info.status == STATUS[status],
              f"session end status {end.session_end_info.status}, expected {status}")


def check_gifs(log, steps):
    check(sorted(log.images) == steps, f"GIFs at steps {sorted(log.images)}, expected {steps}")
    for step, image in log.images.items():
        gif = image.encoded_image_string
        check(gif[:6] == b"GIF89a", f"image at step {step} is not a GIF89a")
        width, height = struct.unpack("<HH", gif[6:10])
        check((image.width, image.height) == (width, height),
              f"image at step {step}: {image.width}x{image.height}, its GIF is {width}x{height}")
        check(image.colorspace == COLORSPACE_RGB, f"image colorspace {image.colorspace}")
        check(gif[-1:] == b";", f"GIF at step {step} has no trailer")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--hparam", action="append", default=[], help="KEY=VALUE expected")
    parser.add_argument("--status", default="success", choices=["success", "failure", "none"])
    parser.add_argument("--gif-steps", default="", help="comma-separated steps with a GIF")
    parser.add_argument("--config-contains", default="", help="text the config summary holds")
    args = parser.parse_args()
    try:
        log = EventLog(args.run_dir)
        rows = check_scalars(log, args.run_dir)
        check_hparams(log, [parse_hparam(h) for h in args.hparam], args.status, list(rows[0]))
        check_gifs(log, [int(s) for s in args.gif_steps.split(",") if s])
        check("config" in log.texts, "no config text summary")
        check(args.config_contains in log.texts["config"], "the config text lacks the expected text")
    except Failure as failure:
        print(f"FAILED: {failure}")
        return 1
    scalars = sum(len(values) for values in log.scalars.values())
    print(f"ok: {len(log.files)} file(s), {log.records} records, {scalars} scalars, "
          f"{len(log.hparams)} hparams records, {len(log.images)} GIFs, CRCs checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
