// TensorBoard event files for a run folder, written without TensorFlow or protoc.
//
// File format: TFRecord, one record per Event (tensorboard_proto.h builds them):
//   uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
// all little-endian, where masked_crc32c(x) = ((c >> 15) | (c << 17)) + 0xa282ead8 and
// c = crc32c(x). Each record is written whole and then flushed, so a crash leaves a readable
// file (at worst its last record cut short, which readers skip).
//
// What RunEventWriter puts in events.out.tfevents.<unix time>.<host>.<pid> (run_dir):
//   - Event{file_version "brain.Event:2"} first;
//   - the hparams plugin's experiment and session start records (the resolved config's scalar
//     values as hparams, see config_hparams) and the config itself as a text summary
//     (tag "config"), at step 0;
//   - every metrics row as simple_value scalars, step = the row's "step" cell (env steps),
//     tags from scalar_tag();
//   - for a row with an "eval_mean" cell (an evaluation), the evaluation's first episode as an
//     animated GIF (Summary.Image, tag "eval/episode") when options.evaluation_replay names a
//     replay file for that step. The GIF is made on a worker thread (re-simulating and
//     rendering the episode takes tens of milliseconds), so training goes on meanwhile;
//   - the hparams session end record when the writer is destroyed (see ~RunEventWriter).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/replay_file.h"
#include "core/tensorboard_proto.h"

namespace rl::tensorboard {

// ((c >> 15) | (c << 17)) + 0xa282ead8 with c = crc32c(bytes), as TFRecord stores CRCs.
uint32_t masked_crc32c(std::span<const uint8_t> bytes);
// One TFRecord: length, masked CRC of the length, data, masked CRC of the data.
std::vector<uint8_t> tfrecord(std::span<const uint8_t> data);

// Appends TFRecords to a new event file.
class EventFileWriter {
 public:
  // Creates `dir` (if missing) and in it events.out.tfevents.<unix seconds>.<host>.<pid>
  // (".1", ".2", ... appended while that name exists), then writes the file_version event.
  // Throws std::runtime_error naming the file when it cannot be created.
  explicit EventFileWriter(const std::string& dir);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // Writes one serialized Event as a TFRecord and flushes it. Throws std::runtime_error
  // naming the file on a write error.
  void write(std::span<const uint8_t> event);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

// The TensorBoard tag of a metrics.csv column (the "step" column is every event's step, not a
// scalar): wall_seconds and steps_per_second under perf/; eval_<x> as eval/<x>; columns with
// "loss" in their name under loss/ ("loss" alone as loss/total); return_mean and length_mean
// as train/episode_return and train/episode_length; anything else under train/.
std::string scalar_tag(const std::string& column);

// The scalar values of a YAML mapping, keys joined with '.' ("agent.lr"): true/false as bools,
// numbers as numbers, other scalars as strings, sequences as their flow-style YAML text
// ("[64, 64]"); null values are left out. Throws std::runtime_error for invalid YAML.
HParams config_hparams(const std::string& yaml);

// How large an episode GIF may get.
struct EpisodeGifLimits {
  int max_frames = 150;  // Longer episodes keep every n-th step.
  int max_side = 256;    // Larger renders shrink by a whole factor (nearest neighbour).
  double step_fps = 30;  // Env steps shown per second of playback.
};

struct EpisodeGif {
  int width = 0, height = 0;
  std::vector<uint8_t> bytes;  // The encoded GIF.
};

// Re-simulates `replay` (the env comes from `registry`) and encodes its env renders as an
// animated GIF: the first observation, then every step (or every n-th, see limits) and the
// last. Throws
// std::invalid_argument when the env cannot be built, std::runtime_error on encoding errors.
EpisodeGif replay_gif(const Replay& replay, const EpisodeGifLimits& limits = {},
                      const EnvRegistry& registry = EnvRegistry::global());

struct RunEventOptions {
  std::string run_dir;               // The event file goes here.
  std::string config_yaml;           // Resolved config: text summary and hparams.
  std::vector<std::string> columns;  // metrics.csv columns: the experiment's metrics.
  int64_t resumed_at_step = 0;       // > 0: a resumed run (see the constructor).
  // Path of the replay the evaluation logged at `step` saved its first episode to ("" or no
  // function: no GIF). A missing file means no GIF either.
  std::function<std::string(int64_t step)> evaluation_replay;
  EpisodeGifLimits gif_limits;
  // When this is true at the end, the run was stopped to be resumed: no session end record.
  const std::atomic<bool>* stop_requested = nullptr;
};

// A MetricsRowSink (CsvWriter::add_sink) writing a run's event file; see the top of this file.
class RunEventWriter : public MetricsRowSink {
 public:
  // Opens the event file and writes the file_version, hparams and config records. A resumed
  // run (resumed_at_step > 0) also gets a SessionLog START at resumed_at_step + 1, so that
  // TensorBoard drops what earlier files logged after the checkpoint it resumed from.
  // Throws std::runtime_error naming the file when it cannot be written, or for invalid YAML.
  explicit RunEventWriter(RunEventOptions options);
  // Waits for the GIF being made, then writes the session end record: STATUS_FAILURE while an
  // exception unwinds the stack, nothing when *stop_requested is true, else STATUS_SUCCESS. Never
  // throws.
  ~RunEventWriter() override;

  // Writes the row's scalars and, for an evaluation, starts its GIF (see the top of this
  // file). A GIF that cannot be made is reported on stderr and left out. Write errors throw
  // std::runtime_error (a GIF's when the next GIF starts, or from finish_pending()).
  void write_row(const std::map<std::string, double>& row) override;
  // Waits until the GIF being made (if any) is written.
  void finish_pending();

  const std::string& path() const { return file_.path(); }

 private:
  void start_evaluation_gif(int64_t step);
  void write_event(std::span<const uint8_t> event);

  RunEventOptions options_;
  EventFileWriter file_;
  std::mutex file_mutex_;  // The GIF worker writes too.
  std::future<void> pending_gif_;
  int uncaught_exceptions_at_start_ = 0;
};

}  // namespace rl::tensorboard
