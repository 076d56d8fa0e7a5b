#include "core/tensorboard.h"

#include <doctest/doctest.h>
#include <gif_lib.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/crc32.h"
#include "core/gif_encoder.h"
#include "core/metrics.h"
#include "core/registry.h"
#include "core/replay_file.h"
#include "test_support.h"

namespace rl::tensorboard {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint64_t read_le(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes.size(); ++i) value |= uint64_t{bytes[i]} << (8 * i);
  return value;
}

// ---- A small protobuf decoder of our own, enough to read back what the writer wrote.

struct Field {
  int number = 0;
  int wire_type = 0;
  uint64_t scalar = 0;         // Varint value, or the raw bits of a fixed32/fixed64.
  std::vector<uint8_t> bytes;  // Length-delimited contents.

  double as_double() const { return std::bit_cast<double>(scalar); }
  float as_float() const { return std::bit_cast<float>(static_cast<uint32_t>(scalar)); }
  std::string as_string() const { return {bytes.begin(), bytes.end()}; }
};

using Message = std::vector<Field>;

uint64_t read_varint(std::span<const uint8_t> data, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    REQUIRE(pos < data.size());
    const uint8_t byte = data[pos++];
    value |= uint64_t{byte & 0x7Fu} << shift;
    if (!(byte & 0x80)) return value;
  }
  FAIL("varint longer than 10 bytes");
  return 0;
}

Message decode(std::span<const uint8_t> data) {
  Message fields;
  size_t pos = 0;
  while (pos < data.size()) {
    const uint64_t key = read_varint(data, pos);
    Field f{static_cast<int>(key >> 3), static_cast<int>(key & 7), 0, {}};
    if (f.wire_type == 0) {
      f.scalar = read_varint(data, pos);
    } else if (f.wire_type == 1 || f.wire_type == 5) {
      const size_t size = f.wire_type == 1 ? 8 : 4;
      REQUIRE(pos + size <= data.size());
      f.scalar = read_le(data.subspan(pos, size));
      pos += size;
    } else {
      REQUIRE(f.wire_type == 2);
      const uint64_t size = read_varint(data, pos);
      REQUIRE(pos + size <= data.size());
      f.bytes.assign(data.begin() + static_cast<ptrdiff_t>(pos),
                     data.begin() + static_cast<ptrdiff_t>(pos + size));
      pos += size;
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

const Field* find(const Message& message, int number) {
  for (const Field& f : message)
    if (f.number == number) return &f;
  return nullptr;
}

std::vector<const Field*> find_all(const Message& message, int number) {
  std::vector<const Field*> out;
  for (const Field& f : message)
    if (f.number == number) out.push_back(&f);
  return out;
}

Message sub(const Message& message, int number) {
  const Field* f = find(message, number);
  REQUIRE_MESSAGE(f != nullptr, "field " << number << " missing");
  return decode(f->bytes);
}

// Splits a TFRecord file into record payloads, checking both CRCs of every record.
std::vector<std::vector<uint8_t>> read_records(const fs::path& path) {
  const std::vector<uint8_t> file = read_bytes(path);
  const std::span<const uint8_t> data(file);
  std::vector<std::vector<uint8_t>> records;
  size_t pos = 0;
  while (pos < data.size()) {
    REQUIRE(pos + 12 <= data.size());
    const uint64_t length = read_le(data.subspan(pos, 8));
    CHECK(read_le(data.subspan(pos + 8, 4)) == masked_crc32c(data.subspan(pos, 8)));
    REQUIRE(pos + 12 + length + 4 <= data.size());
    const auto payload = data.subspan(pos + 12, length);
    CHECK(read_le(data.subspan(pos + 12 + length, 4)) == masked_crc32c(payload));
    records.emplace_back(payload.begin(), payload.end());
    pos += 12 + length + 4;
  }
  return records;
}

// Field numbers, as in TensorBoard's protos.
constexpr int kEventWallTime = 1, kEventStep = 2, kEventFileVersion = 3, kEventSummary = 5,
              kEventSessionLog = 7;
constexpr int kValueTag = 1, kValueSimple = 2, kValueImage = 4, kValueTensor = 8,
              kValueMetadata = 9;

// One Summary.Value with its event's step.
struct Value {
  int64_t step = 0;
  Message fields;
  std::string tag() const { return find(fields, kValueTag)->as_string(); }
  std::string plugin() const {
    const Field* metadata = find(fields, kValueMetadata);
    if (!metadata) return "";
    return sub(decode(metadata->bytes), 1)[0].as_string();
  }
  Message plugin_content() const { return decode(sub(sub(fields, kValueMetadata), 1)[1].bytes); }
};

struct EventFile {
  std::vector<Message> events;
  std::vector<Value> values;

  explicit EventFile(const fs::path& path) {
    for (const auto& record : read_records(path)) events.push_back(decode(record));
    for (const Message& event : events) {
      const Field* summary = find(event, kEventSummary);
      if (!summary) continue;
      const Field* step = find(event, kEventStep);
      const Message summary_fields = decode(summary->bytes);
      for (const Field* value : find_all(summary_fields, 1))
        values.push_back({step ? static_cast<int64_t>(step->scalar) : 0, decode(value->bytes)});
    }
  }
  // The values of `tag`, in order.
  std::vector<Value> with_tag(const std::string& tag) const {
    std::vector<Value> out;
    for (const Value& v : values)
      if (v.tag() == tag) out.push_back(v);
    return out;
  }
  std::map<int64_t, float> scalars(const std::string& tag) const {
    std::map<int64_t, float> out;
    for (const Value& v : with_tag(tag)) out[v.step] = find(v.fields, kValueSimple)->as_float();
    return out;
  }
};

fs::path only_event_file(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      found.push_back(entry.path());
  REQUIRE(found.size() == 1);
  return found[0];
}

const std::vector<std::string> kColumns = {"step",      "wall_seconds", "episodes", "return_mean",
                                           "eval_mean", "policy_loss",  "lr"};

constexpr char kConfig[] =
    "name: tb_test\nseed: 3\nenv:\n  id: classic/cartpole-v1\n  params: {max_episode_steps: 200}\n"
    "agent:\n  type: ppo\n  lr: 0.00025\n  hidden: [64, 64]\n  anneal_lr: true\n"
    "train:\n  total_steps: 3000\n";

RunEventOptions options_for(const TempDir& dir) {
  RunEventOptions options;
  options.run_dir = dir.path.string();
  options.config_yaml = kConfig;
  options.columns = kColumns;
  return options;
}

// A training run's worth of rows through a CsvWriter, as the trainer writes them.
void write_rows(CsvWriter& csv) {
  csv.write({{"step", 1000},
             {"wall_seconds", 0.5},
             {"episodes", 40},
             {"return_mean", 22.25},
             {"policy_loss", -0.0125},
             {"lr", 0.00025}});
  csv.write({{"step", 2000},
             {"wall_seconds", 1.25},
             {"episodes", 70},
             {"return_mean", 31.5},
             {"policy_loss", -0.02},
             {"lr", 0.0002}});
  csv.write({{"step", 2000}, {"wall_seconds", 1.5}, {"episodes", 70}, {"eval_mean", 120.5}});
}

// Records one CartPole episode that always pushes left, and saves it.
void save_left_pushing_episode(const std::string& path) {
  auto env = EnvRegistry::global().make("classic/cartpole-v1", {});
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  ReplayRecorder recorder({{}, "test", "", 1});
  env->reset(7, obs);
  recorder.begin(*env, 7, obs);
  for (bool done = false; !done;) {
    const Action left = Action::discrete(0);
    const StepResult result = env->step(left, obs);
    recorder.record(left, result, obs);
    done = result.done();
  }
  recorder.save(path);
}

int run_reader(const std::vector<std::string>& args, const fs::path& log) {
  const fs::path script = test::source_dir() / "tests" / "core" / "tensorboard_reader.py";
  std::vector<std::string> argv = {script.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = test::spawn_logged("/usr/bin/python3", argv, log);
  REQUIRE(pid > 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const fs::path& path) {
  const auto bytes = read_bytes(path);
  return {bytes.begin(), bytes.end()};
}

}  // namespace

TEST_CASE("crc32c known answers and the TFRecord mask") {
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c({}) == 0u);
  CHECK(crc32c(as_bytes("56789"), crc32c(as_bytes("1234"))) == 0xE3069283u);
  CHECK(crc32(as_bytes("123456789")) == 0xCBF43926u);  // The IEEE CRC is unchanged.
  // ((c >> 15) | (c << 17)) + 0xa282ead8 of c = 0xE3069283.
  CHECK(masked_crc32c(as_bytes("123456789")) == 0xC78AB0E5u);
}

TEST_CASE("protobuf wire format: varints, strings, doubles, floats and nested messages") {
  // The examples of the protobuf encoding guide.
  CHECK(ProtoWriter().varint(1, 150).data() == std::vector<uint8_t>{0x08, 0x96, 0x01});
  CHECK(ProtoWriter().string(2, "testing").data() ==
        std::vector<uint8_t>{0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'});
  CHECK(ProtoWriter().fixed64_double(1, 1.0).data() ==
        std::vector<uint8_t>{0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F});
  CHECK(ProtoWriter().fixed32_float(2, 1.0f).data() ==
        std::vector<uint8_t>{0x15, 0, 0, 0x80, 0x3F});
  ProtoWriter inner;
  inner.varint(1, 150);
  CHECK(ProtoWriter().message(3, inner).data() ==
        std::vector<uint8_t>{0x1A, 0x03, 0x08, 0x96, 0x01});
  // Field numbers above 15 take two key bytes; 64-bit values up to ten varint bytes.
  CHECK(ProtoWriter().varint(16, 1).data() == std::vector<uint8_t>{0x80, 0x01, 0x01});
  CHECK(ProtoWriter().varint(1, UINT64_MAX).data().size() == 11);
}

TEST_CASE("tfrecord framing: length, its masked CRC, data, the data's masked CRC") {
  const std::vector<uint8_t> record = tfrecord(as_bytes("abc"));
  REQUIRE(record.size() == 8 + 4 + 3 + 4);
  CHECK(read_le(std::span(record).subspan(0, 8)) == 3u);
  CHECK(read_le(std::span(record).subspan(8, 4)) == 0x0E4999B0u);  // Of the 8 length bytes.
  CHECK(std::string(record.begin() + 12, record.begin() + 15) == "abc");
  CHECK(read_le(std::span(record).subspan(15, 4)) == 0x21F1576Eu);  // Of "abc".
}

TEST_CASE("metrics.csv columns get readable tags") {
  CHECK(scalar_tag("wall_seconds") == "perf/wall_seconds");
  CHECK(scalar_tag("steps_per_second") == "perf/steps_per_second");
  CHECK(scalar_tag("eval_mean") == "eval/mean");
  CHECK(scalar_tag("eval_success") == "eval/success");
  CHECK(scalar_tag("loss") == "loss/total");
  CHECK(scalar_tag("policy_loss") == "loss/policy_loss");
  CHECK(scalar_tag("q_loss") == "loss/q_loss");
  CHECK(scalar_tag("return_mean") == "train/episode_return");
  CHECK(scalar_tag("length_mean") == "train/episode_length");
  CHECK(scalar_tag("episodes") == "train/episodes");
  CHECK(scalar_tag("epsilon") == "train/epsilon");
}

TEST_CASE("config_hparams flattens the config's scalars with dotted keys") {
  const HParams hparams = config_hparams(kConfig);
  const std::map<std::string, HParamValue> by_name(hparams.begin(), hparams.end());
  CHECK(by_name.size() == hparams.size());
  CHECK(std::get<std::string>(by_name.at("name")) == "tb_test");
  CHECK(std::get<double>(by_name.at("seed")) == 3.0);
  CHECK(std::get<std::string>(by_name.at("env.id")) == "classic/cartpole-v1");
  CHECK(std::get<double>(by_name.at("env.params.max_episode_steps")) == 200.0);
  CHECK(std::get<double>(by_name.at("agent.lr")) == 0.00025);
  CHECK(std::get<bool>(by_name.at("agent.anneal_lr")) == true);
  CHECK(std::get<std::string>(by_name.at("agent.hidden")) == "[64, 64]");
  CHECK(hparams.front().first == "name");  // Config order.
  CHECK_THROWS_WITH_AS(config_hparams("a: [1, 2"), doctest::Contains("hparams"),
                       std::runtime_error);
}

TEST_CASE("a run's event file: file version, scalars, hparams, config text, session end") {
  TempDir dir("tensorboard");
  fs::path event_path;
  {
    CsvWriter csv((dir.path / "metrics.csv").string(), kColumns);
    auto writer = std::make_unique<RunEventWriter>(options_for(dir));
    event_path = writer->path();
    csv.add_sink(std::move(writer));
    write_rows(csv);
    // Flushed at every row: the file is complete before the writer closes it (a crash now
    // leaves all of it readable). No session end yet.
    const EventFile before_end(event_path);
    CHECK(before_end.scalars("eval/mean").size() == 1);
    CHECK(before_end.with_tag(kSessionEndTag).empty());
  }
  const std::string name = event_path.filename().string();
  CHECK(name.rfind("events.out.tfevents.", 0) == 0);
  CHECK(name.size() > std::string("events.out.tfevents.1.h.1").size());
  CHECK(event_path.parent_path() == dir.path);

  const EventFile file(event_path);
  REQUIRE(file.events.size() >= 2);
  CHECK(find(file.events[0], kEventFileVersion)->as_string() == "brain.Event:2");
  CHECK(find(file.events[0], kEventWallTime)->as_double() > 1.6e9);

  // Scalars: every cell of the rows, at the row's step, under its tag.
  CHECK(file.scalars("train/episode_return") ==
        std::map<int64_t, float>{{1000, 22.25f}, {2000, 31.5f}});
  CHECK(file.scalars("loss/policy_loss") ==
        std::map<int64_t, float>{{1000, -0.0125f}, {2000, -0.02f}});
  CHECK(file.scalars("train/lr") == std::map<int64_t, float>{{1000, 0.00025f}, {2000, 0.0002f}});
  CHECK(file.scalars("eval/mean") == std::map<int64_t, float>{{2000, 120.5f}});
  CHECK(file.with_tag("perf/wall_seconds").size() == 3);  // Both rows at step 2000 have one.
  CHECK(file.with_tag("step").empty());
  for (const Value& v : file.with_tag("perf/wall_seconds")) CHECK(v.plugin().empty());

  // hparams: experiment, session start with the config's scalars, session end (success).
  const auto start = file.with_tag(kSessionStartTag);
  REQUIRE(start.size() == 1);
  CHECK(start[0].plugin() == "hparams");
  const Message start_info = sub(start[0].plugin_content(), 3);
  std::map<std::string, Message> hparams;
  for (const Field* entry : find_all(start_info, 1)) {
    const Message kv = decode(entry->bytes);
    hparams[find(kv, 1)->as_string()] = sub(kv, 2);
  }
  CHECK(find(hparams.at("agent.lr"), 2)->as_double() == 0.00025);              // number_value
  CHECK(find(hparams.at("env.id"), 3)->as_string() == "classic/cartpole-v1");  // string_value
  CHECK(find(hparams.at("agent.anneal_lr"), 4)->scalar == 1);                  // bool_value
  CHECK(find(start_info, 5)->as_double() > 1.6e9);                             // start_time_secs

  const auto experiment = file.with_tag(kExperimentTag);
  REQUIRE(experiment.size() == 1);
  const Message experiment_info = sub(experiment[0].plugin_content(), 2);
  CHECK(find_all(experiment_info, 4).size() == hparams.size());  // hparam_infos
  std::vector<std::string> metric_tags;
  for (const Field* info : find_all(experiment_info, 5))  // MetricInfo.name.tag
    metric_tags.push_back(find(sub(decode(info->bytes), 1), 2)->as_string());
  CHECK(metric_tags == std::vector<std::string>{"perf/wall_seconds", "train/episodes",
                                                "train/episode_return", "eval/mean",
                                                "loss/policy_loss", "train/lr"});

  const auto end = file.with_tag(kSessionEndTag);
  REQUIRE(end.size() == 1);
  CHECK(find(sub(end[0].plugin_content(), 4), 1)->scalar == 1);  // STATUS_SUCCESS

  // The resolved config as a text summary: a rank-0 DT_STRING tensor.
  const auto text = file.with_tag("config");
  REQUIRE(text.size() == 1);
  CHECK(text[0].plugin() == "text");
  const Message tensor = sub(text[0].fields, kValueTensor);
  CHECK(find(tensor, 1)->scalar == 7);  // DT_STRING
  CHECK(sub(tensor, 2).empty());        // No dims.
  CHECK(find(tensor, 8)->as_string().find("    lr: 0.00025") != std::string::npos);
}

TEST_CASE("session end: failure when an exception ends the run, none when it was stopped") {
  SUBCASE("failure") {
    TempDir dir("tensorboard");
    try {
      RunEventWriter writer(options_for(dir));
      throw std::runtime_error("training failed");
    } catch (const std::runtime_error&) {
    }
    const auto end = EventFile(only_event_file(dir.path)).with_tag(kSessionEndTag);
    REQUIRE(end.size() == 1);
    CHECK(find(sub(end[0].plugin_content(), 4), 1)->scalar == 2);  // STATUS_FAILURE
  }
  SUBCASE("stopped, to be resumed") {
    TempDir dir("tensorboard");
    std::atomic<bool> stop{false};
    {
      RunEventOptions options = options_for(dir);
      options.stop_requested = &stop;
      RunEventWriter writer(options);
      stop = true;
    }
    CHECK(EventFile(only_event_file(dir.path)).with_tag(kSessionEndTag).empty());
  }
}

TEST_CASE("a resumed run's file tells TensorBoard to drop steps after the checkpoint") {
  TempDir dir("tensorboard");
  RunEventOptions options = options_for(dir);
  const std::string first = RunEventWriter(options).path();
  options.resumed_at_step = 5000;
  const std::string second = RunEventWriter(options).path();
  CHECK(first != second);  // A new file, even within the same second.
  const EventFile file(second);
  int logs = 0;
  for (const Message& event : file.events) {
    if (const Field* log = find(event, kEventSessionLog)) {
      CHECK(find(event, kEventStep)->scalar == 5001);
      CHECK(find(decode(log->bytes), 1)->scalar == 1);  // SessionLog.START
      ++logs;
    }
  }
  CHECK(logs == 1);
  for (const Message& event : EventFile(first).events) CHECK(!find(event, kEventSessionLog));
}

TEST_CASE("an evaluation row brings its replay's episode as an animated GIF") {
  TempDir dir("tensorboard");
  save_left_pushing_episode(dir.file("replays/eval_2000.rlr"));
  const Replay replay = read_replay(dir.file("replays/eval_2000.rlr"));
  RunEventOptions options = options_for(dir);
  std::vector<int64_t> asked;
  options.evaluation_replay = [&](int64_t step) {
    asked.push_back(step);
    return dir.file("replays/eval_" + std::to_string(step) + ".rlr");
  };
  {
    RunEventWriter writer(options);
    writer.write_row({{"step", 1000}, {"return_mean", 10}});  // Not an evaluation.
    writer.write_row({{"step", 2000}, {"eval_mean", 9}});
    writer.finish_pending();  // The GIF is made on a worker thread.
    CHECK(EventFile(writer.path()).with_tag("eval/episode").size() == 1);
    writer.write_row({{"step", 3000}, {"eval_mean", 9}});  // No replay: no GIF, no error.
  }
  CHECK(asked == std::vector<int64_t>{2000, 3000});
  const auto images = EventFile(only_event_file(dir.path)).with_tag("eval/episode");
  REQUIRE(images.size() == 1);
  CHECK(images[0].step == 2000);
  const Message image = sub(images[0].fields, kValueImage);
  CHECK(find(image, 3)->scalar == 3);  // RGB
  const std::vector<uint8_t> gif_bytes = find(image, 4)->bytes;
  REQUIRE(gif_bytes.size() > 6);
  CHECK(std::string(gif_bytes.begin(), gif_bytes.begin() + 6) == "GIF89a");

  // CartPole renders 600x400, shrunk by 3 to fit 256; one frame per step plus the first.
  std::vector<uint8_t> copy = gif_bytes;
  std::pair<std::vector<uint8_t>*, size_t> source{&copy, 0};
  int error = 0;
  GifFileType* gif = DGifOpen(
      &source,
      [](GifFileType* g, GifByteType* out, int n) {
        auto* s = static_cast<std::pair<std::vector<uint8_t>*, size_t>*>(g->UserData);
        const int available = static_cast<int>(std::min<size_t>(n, s->first->size() - s->second));
        std::memcpy(out, s->first->data() + s->second, static_cast<size_t>(available));
        s->second += static_cast<size_t>(available);
        return available;
      },
      &error);
  REQUIRE(gif != nullptr);
  REQUIRE(DGifSlurp(gif) == GIF_OK);
  CHECK(gif->SWidth == 200);
  CHECK(gif->SHeight == 133);
  CHECK(find(image, 2)->scalar == 200);  // width
  CHECK(find(image, 1)->scalar == 133);  // height
  CHECK(gif->ImageCount == replay.steps() + 1);
  DGifCloseFile(gif, &error);
}

TEST_CASE("replay_gif keeps at most max_frames frames of a long episode") {
  TempDir dir("tensorboard");
  save_left_pushing_episode(dir.file("episode.rlr"));
  const Replay replay = read_replay(dir.file("episode.rlr"));
  REQUIRE(replay.steps() >= 8);
  const EpisodeGif gif = replay_gif(replay, {.max_frames = 4, .max_side = 60, .step_fps = 30});
  CHECK(gif.width == 60);  // 600x400 shrunk by 10.
  CHECK(gif.height == 40);
  CHECK(gif.bytes.size() > 100);
  CHECK_THROWS_AS(replay_gif(replay, {}, EnvRegistry()), std::invalid_argument);  // Unknown env.
}

TEST_CASE("encode_gif: frames round-trip through giflib") {
  Image red(4, 2, {255, 0, 0}), blue(4, 2, {0, 0, 255});
  const std::vector<Image> frames = {red, blue, red};
  const std::vector<uint8_t> bytes = encode_gif(frames, 10);
  CHECK(std::string(bytes.begin(), bytes.begin() + 6) == "GIF89a");
  CHECK(bytes.back() == ';');
  CHECK_THROWS_AS(encode_gif(std::vector<Image>{}, 10), std::runtime_error);
  CHECK_THROWS_WITH_AS(encode_gif(std::vector<Image>{red, Image(2, 2)}, 10),
                       doctest::Contains("frame is 2x2, the GIF is 4x2"), std::runtime_error);
  // A failing sink is an error naming the output, not a crash.
  const auto fail_after = [](size_t accepted) {
    return [accepted, total = size_t{0}](std::span<const uint8_t> bytes) mutable {
      total += bytes.size();
      return total <= accepted;
    };
  };
  CHECK_THROWS_WITH_AS(GifEncoder(fail_after(0), 4, 2, 10, "out.gif"),
                       doctest::Contains("out.gif: cannot write"), std::runtime_error);
  GifEncoder encoder(fail_after(64), 4, 2, 10, "out.gif");
  CHECK_THROWS_WITH_AS(for (int i = 0; i < 10; ++i) encoder.add_frame(red),
                       doctest::Contains("out.gif: cannot write"), std::runtime_error);
}

TEST_CASE("CsvWriter feeds its sinks the rows it wrote, and nothing it rejected") {
  struct Recorder : MetricsRowSink {
    std::vector<std::map<std::string, double>>* rows;
    void write_row(const std::map<std::string, double>& row) override { rows->push_back(row); }
  };
  TempDir dir("tensorboard");
  std::vector<std::map<std::string, double>> seen;
  CsvWriter csv(dir.file("metrics.csv"), {"step", "x"});
  auto sink = std::make_unique<Recorder>();
  sink->rows = &seen;
  csv.add_sink(std::move(sink));
  csv.write({{"step", 1}, {"x", 2.5}});
  CHECK_THROWS_AS(csv.write({{"step", 2}, {"y", 1}}), std::invalid_argument);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == std::map<std::string, double>{{"step", 1}, {"x", 2.5}});
  CHECK(read_text(dir.file("metrics.csv")) == "step,x\n1,2.5\n");
}

TEST_CASE("an independent reader (Debian python3-protobuf) agrees, and catches corruption") {
  TempDir dir("tensorboard");
  save_left_pushing_episode(dir.file("replays/eval_2000.rlr"));
  fs::path event_path;
  {
    CsvWriter csv((dir.path / "metrics.csv").string(), kColumns);
    RunEventOptions options = options_for(dir);
    options.evaluation_replay = [&](int64_t step) {
      return dir.file("replays/eval_" + std::to_string(step) + ".rlr");
    };
    auto writer = std::make_unique<RunEventWriter>(options);
    event_path = writer->path();
    csv.add_sink(std::move(writer));
    write_rows(csv);
  }
  const std::vector<std::string> expectations = {dir.path.string(),
                                                 "--hparam",
                                                 "agent.lr=0.00025",
                                                 "--hparam",
                                                 "agent.anneal_lr=true",
                                                 "--hparam",
                                                 "env.id=classic/cartpole-v1",
                                                 "--gif-steps",
                                                 "2000",
                                                 "--config-contains",
                                                 "max_episode_steps: 200"};
  const fs::path log = dir.path / "reader.log";
  CHECK_MESSAGE(run_reader(expectations, log) == 0, read_text(log));
  CHECK(read_text(log).find("ok: 1 file(s)") != std::string::npos);

  // The reader is not a rubber stamp: a wrong expectation fails it...
  std::vector<std::string> wrong_status = expectations;
  wrong_status.push_back("--status=failure");
  CHECK(run_reader(wrong_status, log) == 1);
  CHECK(read_text(log).find("session end status 1, expected failure") != std::string::npos);

  // ... and so does one flipped bit in a record's data (its CRC no longer matches).
  std::vector<uint8_t> bytes = read_bytes(event_path);
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(event_path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  CHECK(run_reader(expectations, log) == 1);
  CHECK(read_text(log).find("CRC mismatch") != std::string::npos);

  // A scalar written under the wrong field number (3, not simple_value's 2) fails it too.
  TempDir bad("tensorboard");
  CsvWriter(bad.file("metrics.csv"), {"step", "episodes"})
      .write({{"step", 1000}, {"episodes", 40}});
  std::string bad_path;
  {
    RunEventOptions options = options_for(bad);
    options.columns = {"step", "episodes"};
    bad_path = RunEventWriter(options).path();
  }
  ProtoWriter bad_value;
  bad_value.string(1, "train/episodes").fixed32_float(3, 40.0f);
  const ProtoWriter values[] = {bad_value};
  const std::vector<uint8_t> record = tfrecord(summary_event(1.7e9, 1000, values));
  std::ofstream(bad_path, std::ios::binary | std::ios::app)
      .write(reinterpret_cast<const char*>(record.data()),
             static_cast<std::streamsize>(record.size()));
  CHECK(run_reader({bad.path.string()}, log) == 1);
  CHECK(read_text(log).find("unexpected value train/episodes") != std::string::npos);
}

}  // namespace rl::tensorboard
