#include "core/tensorboard.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "core/crc32.h"
#include "core/gif_encoder.h"

namespace rl::tensorboard {
namespace {

constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;

double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void append_le(std::vector<uint8_t>& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// Opens a new file for writing, failing if it exists ("x": no race with another writer).
std::FILE* create_event_file(const std::filesystem::path& dir, std::string& path) {
  const std::string base =
      (dir / ("events.out.tfevents." + std::to_string(static_cast<int64_t>(unix_time())) + "." +
              host_name() + "." + std::to_string(::getpid())))
          .string();
  for (int suffix = 0; suffix < 1000; ++suffix) {
    path = suffix == 0 ? base : base + "." + std::to_string(suffix);
    if (std::FILE* file = std::fopen(path.c_str(), "wbx")) return file;
    if (errno != EEXIST) break;
  }
  throw std::runtime_error(path +
                           ": cannot create the TensorBoard event file: " + std::strerror(errno));
}

bool strip_prefix(std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) != 0) return false;
  text.erase(0, prefix.size());
  return true;
}

HParamValue scalar_hparam(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  char* end = nullptr;
  const double number = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(number)) return number;
  return text;
}

void flatten(const YAML::Node& node, const std::string& key, HParams& out) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      const std::string name = item.first.as<std::string>();
      flatten(item.second, key.empty() ? name : key + "." + name, out);
    }
  } else if (node.IsSequence()) {
    YAML::Emitter text;
    text << YAML::Flow << node;
    out.emplace_back(key, std::string(text.c_str()));
  } else if (node.IsScalar()) {
    out.emplace_back(key, scalar_hparam(node.Scalar()));
  }
}

// A whole factor that brings `side` down to at most `max_side`.
int shrink_factor(int side, int max_side) { return std::max(1, (side + max_side - 1) / max_side); }

// Markdown shows the YAML as a code block (every line indented by four spaces).
std::string as_code_block(const std::string& text) {
  std::string out = "    ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

}  // namespace

uint32_t masked_crc32c(std::span<const uint8_t> bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta;
}

std::vector<uint8_t> tfrecord(std::span<const uint8_t> data) {
  std::vector<uint8_t> record;
  record.reserve(data.size() + 16);
  append_le(record, data.size(), 8);
  append_le(record, masked_crc32c(record), 4);
  record.insert(record.end(), data.begin(), data.end());
  append_le(record, masked_crc32c(data), 4);
  return record;
}

EventFileWriter::EventFileWriter(const std::string& dir) {
  std::filesystem::create_directories(dir);
  file_ = create_event_file(dir, path_);
  write(file_version_event(unix_time()));
}

EventFileWriter::~EventFileWriter() {
  if (file_) std::fclose(file_);
}

void EventFileWriter::write(std::span<const uint8_t> event) {
  const std::vector<uint8_t> record = tfrecord(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fflush(file_) != 0) {
    throw std::runtime_error(
        path_ + ": cannot write to the TensorBoard event file: " + std::strerror(errno));
  }
}

std::string scalar_tag(const std::string& column) {
  std::string name = column;
  if (name == "wall_seconds" || name == "steps_per_second") return "perf/" + name;
  if (strip_prefix(name, "eval_")) return "eval/" + name;
  if (name == "loss") return "loss/total";
  if (name.find("loss") != std::string::npos) return "loss/" + name;
  if (name == "return_mean") return "train/episode_return";
  if (name == "length_mean") return "train/episode_length";
  return "train/" + name;
}

HParams config_hparams(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(std::string("config for TensorBoard hparams: ") + e.what());
  }
  HParams out;
  flatten(root, "", out);
  return out;
}

EpisodeGif replay_gif(const Replay& replay, const EpisodeGifLimits& limits,
                      const EnvRegistry& registry) {
  ReplaySimulator simulator(replay, registry);
  const int64_t frames = replay.steps() + 1;
  const int64_t stride = std::max<int64_t>(1, (frames + limits.max_frames - 1) / limits.max_frames);
  Image render;
  std::vector<Image> kept;
  for (int64_t step = 0;; ++step) {
    if (step % stride == 0 || simulator.finished()) {  // The last frame too.
      simulator.env().render(render);
      const int factor = shrink_factor(std::max(render.width, render.height), limits.max_side);
      kept.push_back(factor == 1
                         ? render
                         : scale_nearest(render, render.width / factor, render.height / factor));
    }
    if (simulator.finished()) break;
    simulator.advance();
  }
  EpisodeGif gif{kept.front().width, kept.front().height, {}};
  gif.bytes = encode_gif(kept, limits.step_fps / static_cast<double>(stride));
  return gif;
}

RunEventWriter::RunEventWriter(RunEventOptions options)
    : options_(std::move(options)),
      file_(options_.run_dir),
      uncaught_exceptions_at_start_(std::uncaught_exceptions()) {
  std::vector<std::string> metric_tags;
  for (const std::string& column : options_.columns) {
    if (column != "step") metric_tags.push_back(scalar_tag(column));
  }
  const double now = unix_time();
  const HParams hparams = config_hparams(options_.config_yaml);
  const ProtoWriter header[] = {hparams_experiment_value(hparams, metric_tags, now),
                                hparams_session_start_value(hparams, now),
                                text_value("config", as_code_block(options_.config_yaml))};
  file_.write(summary_event(now, 0, header));
  if (options_.resumed_at_step > 0) {
    file_.write(session_start_log_event(now, options_.resumed_at_step + 1));
  }
}

RunEventWriter::~RunEventWriter() {
  try {
    finish_pending();
  } catch (const std::exception& e) {
    std::cerr << "warning: " << e.what() << '\n';
  }
  if (options_.stop_requested && options_.stop_requested->load()) return;
  const SessionStatus status = std::uncaught_exceptions() > uncaught_exceptions_at_start_
                                   ? SessionStatus::kFailure
                                   : SessionStatus::kSuccess;
  try {
    const ProtoWriter end[] = {hparams_session_end_value(status, unix_time())};
    write_event(summary_event(unix_time(), 0, end));
  } catch (const std::exception& e) {
    std::cerr << "warning: " << e.what() << '\n';
  }
}

void RunEventWriter::write_event(std::span<const uint8_t> event) {
  const std::lock_guard<std::mutex> lock(file_mutex_);
  file_.write(event);
}

void RunEventWriter::finish_pending() {
  if (pending_gif_.valid()) pending_gif_.get();  // Rethrows the worker's write error.
}

void RunEventWriter::write_row(const std::map<std::string, double>& row) {
  const auto step_cell = row.find("step");
  const int64_t step = step_cell == row.end() ? 0 : static_cast<int64_t>(step_cell->second);
  std::vector<ProtoWriter> values;
  values.reserve(row.size());
  for (const auto& [column, value] : row) {
    if (column != "step") {
      values.push_back(scalar_value(scalar_tag(column), static_cast<float>(value)));
    }
  }
  write_event(summary_event(unix_time(), step, values));
  if (row.count("eval_mean")) start_evaluation_gif(step);
}

void RunEventWriter::start_evaluation_gif(int64_t step) {
  if (!options_.evaluation_replay) return;
  std::string replay_path = options_.evaluation_replay(step);
  if (replay_path.empty() || !std::filesystem::exists(replay_path)) return;
  finish_pending();  // One GIF at a time.
  pending_gif_ = std::async(std::launch::async, [this, step, replay_path = std::move(replay_path)] {
    EpisodeGif gif;
    try {
      gif = replay_gif(read_replay(replay_path), options_.gif_limits);
    } catch (const std::exception& e) {
      std::cerr << "warning: TensorBoard: no GIF of " << replay_path << ": " << e.what() << '\n';
      return;
    }
    const ProtoWriter image[] = {image_value("eval/episode", gif.width, gif.height, gif.bytes)};
    write_event(summary_event(unix_time(), step, image));
  });
}

}  // namespace rl::tensorboard
