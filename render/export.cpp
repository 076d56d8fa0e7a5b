#include "render/export.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SFML/Graphics/Image.hpp>
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <vector>

#include "render/gif_writer.h"
#include "render/layout.h"

extern char** environ;

namespace rl::render {
namespace {

namespace fs = std::filesystem;

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::string temp_sibling(const std::string& path, const std::string& ext) {
  const fs::path target(path);
  return (target.parent_path() /
          (target.stem().string() + ".tmp" + std::to_string(::getpid()) + ext))
      .string();
}

// Calls `sink` with every frame of the episode from the session's current state, fitted into
// the box; returns the number of frames.
int64_t play_frames(WatchSession& session, int box_width, int box_height, int64_t max_frames,
                    const std::function<void(const Image&)>& sink) {
  Image frame;
  int64_t frames = 0;
  while (true) {
    session.render(frame);
    sink(fit_frame(frame, box_width, box_height));
    ++frames;
    if (session.episode_over() || session.finished() || frames >= max_frames) break;
    if (!session.advance()) break;
  }
  return frames;
}

Rect export_box(WatchSession& session, const ExportOptions& options, int default_side) {
  if (options.width > 0 && options.height > 0) return {0, 0, options.width, options.height};
  Image first;
  session.render(first);
  if (default_side > 0) {
    const Rect fitted = fit_keep_aspect(first.width, first.height, default_side, default_side);
    return {0, 0, fitted.width, fitted.height};
  }
  return default_frame_area(first.width, first.height);
}

ExportReport export_gif(WatchSession& session, const ExportOptions& options) {
  const Rect box = export_box(session, options, 0);
  Image first;
  session.render(first);
  const Rect fitted = fit_keep_aspect(first.width, first.height, box.width, box.height);
  GifWriter gif(options.path, fitted.width, fitted.height, options.fps);
  ExportReport report;
  report.frames = play_frames(session, box.width, box.height, options.max_frames,
                              [&](const Image& frame) { gif.add_frame(frame); });
  gif.finish();
  report.frames_written = gif.frames_kept();
  report.width = fitted.width;
  report.height = fitted.height;
  return report;
}

// Keeps at most 2 x `tiles` frames by doubling the sampling stride when full.
struct FrameSampler {
  explicit FrameSampler(size_t max_tiles) : limit(max_tiles) {}
  size_t limit;
  int64_t stride = 1;
  int64_t seen = 0;
  std::vector<std::pair<int64_t, Image>> kept;

  void offer(const Image& frame) {
    if (seen % stride == 0) kept.emplace_back(seen, frame);
    ++seen;
    if (kept.size() >= 2 * limit) {
      stride *= 2;
      std::erase_if(kept, [&](const auto& entry) { return entry.first % stride != 0; });
    }
  }
  // Evenly spaced frames, always including the first and the last one seen.
  std::vector<const Image*> pick(const Image& last) const {
    std::vector<const Image*> out;
    const size_t n = std::min(limit, kept.size());
    for (size_t i = 0; i + 1 < n; ++i) out.push_back(&kept[i * (kept.size() - 1) / (n - 1)].second);
    out.push_back(&last);
    return out;
  }
};

ExportReport export_sheet(WatchSession& session, const ExportOptions& options) {
  if (options.sheet_tiles < 1) throw std::runtime_error(options.path + ": sheet needs >= 1 tile");
  const Rect box = export_box(session, options, 240);
  FrameSampler sampler(static_cast<size_t>(options.sheet_tiles));
  Image last;
  ExportReport report;
  report.frames =
      play_frames(session, box.width, box.height, options.max_frames, [&](const Image& frame) {
        sampler.offer(frame);
        last = frame;
      });
  const std::vector<const Image*> tiles = sampler.pick(last);
  const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(tiles.size()))));
  const int rows = static_cast<int>((tiles.size() + columns - 1) / columns);
  constexpr int kGap = 4;
  sf::Image sheet;
  sheet.create(static_cast<unsigned>(columns * (box.width + kGap) + kGap),
               static_cast<unsigned>(rows * (box.height + kGap) + kGap), sf::Color(40, 40, 40));
  for (size_t t = 0; t < tiles.size(); ++t) {
    const Image& tile = *tiles[t];
    const Rect at = fit_keep_aspect(tile.width, tile.height, box.width, box.height);
    const int left = kGap + static_cast<int>(t % columns) * (box.width + kGap) + at.x;
    const int top = kGap + static_cast<int>(t / columns) * (box.height + kGap) + at.y;
    for (int y = 0; y < tile.height; ++y)
      for (int x = 0; x < tile.width; ++x) {
        const Color c = tile.at(x, y);
        sheet.setPixel(static_cast<unsigned>(left + x), static_cast<unsigned>(top + y),
                       sf::Color(c.r, c.g, c.b));
      }
  }
  const std::string temp = temp_sibling(options.path, ".png");
  std::error_code ec;
  if (!sheet.saveToFile(temp)) {
    fs::remove(temp, ec);
    throw std::runtime_error(options.path + ": cannot write the PNG frame sheet");
  }
  fs::rename(temp, options.path, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw std::runtime_error(options.path + ": cannot move the PNG into place: " + ec.message());
  }
  report.frames_written = static_cast<int64_t>(tiles.size());
  report.width = box.width;
  report.height = box.height;
  return report;
}

std::string find_on_path(const std::string& program) {
  if (program.empty()) return "";
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 && !fs::is_directory(program) ? program : "";
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::string dirs = path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

ExportReport export_mp4(WatchSession& session, const ExportOptions& options) {
  const std::string ffmpeg = find_on_path(options.ffmpeg);
  if (ffmpeg.empty()) {
    const std::string what = options.ffmpeg == "ffmpeg"
                                 ? "ffmpeg, which is not installed (no ffmpeg on PATH)"
                                 : "ffmpeg, but '" + options.ffmpeg +
                                       "' is not an executable program (on PATH or as a path)";
    throw std::runtime_error(options.path + ": .mp4 export needs " + what +
                             "; Debian: apt-get install ffmpeg. .gif and .png exports need "
                             "nothing extra");
  }
  const Rect box = export_box(session, options, 0);
  Image first;
  session.render(first);
  const Rect fitted = fit_keep_aspect(first.width, first.height, box.width, box.height);
  const int width = fitted.width + fitted.width % 2, height = fitted.height + fitted.height % 2;
  const std::string temp = temp_sibling(options.path, ".mp4");
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  const std::string rate = std::to_string(options.fps);
  std::vector<std::string> args = {
      ffmpeg, "-loglevel", "error", "-y", "-f",       "rawvideo", "-pix_fmt", "rgb24",   "-s", size,
      "-r",   rate,        "-i",    "-",  "-pix_fmt", "yuv420p",  "-c:v",     "libx264", temp};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error(options.path + ": cannot create a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, ffmpeg.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[0]);
  if (spawned != 0) {
    ::close(pipe_fds[1]);
    throw std::runtime_error(options.path + ": cannot start " + ffmpeg);
  }
  auto old_handler = std::signal(SIGPIPE, SIG_IGN);
  bool write_failed = false;
  ExportReport report;
  std::vector<uint8_t> padded(static_cast<size_t>(width) * height * 3, 0);
  report.frames =
      play_frames(session, box.width, box.height, options.max_frames, [&](const Image& frame) {
        for (int y = 0; y < frame.height; ++y)
          std::copy_n(&frame.pixels[static_cast<size_t>(y) * frame.width * 3], frame.width * 3,
                      &padded[static_cast<size_t>(y) * width * 3]);
        size_t done = 0;
        while (!write_failed && done < padded.size()) {
          const ssize_t n = ::write(pipe_fds[1], padded.data() + done, padded.size() - done);
          if (n <= 0)
            write_failed = true;
          else
            done += static_cast<size_t>(n);
        }
      });
  ::close(pipe_fds[1]);
  std::signal(SIGPIPE, old_handler);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::error_code ec;
  if (write_failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fs::remove(temp, ec);
    throw std::runtime_error(options.path + ": ffmpeg failed (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  fs::rename(temp, options.path, ec);
  if (ec) throw std::runtime_error(options.path + ": cannot move the MP4 into place");
  report.frames_written = report.frames;
  report.width = width;
  report.height = height;
  return report;
}

}  // namespace

std::string find_program(const std::string& program) { return find_on_path(program); }

bool ffmpeg_available(const std::string& program) { return !find_on_path(program).empty(); }

ExportReport export_episode(WatchSession& session, const ExportOptions& options) {
  const std::string ext = lower_extension(options.path);
  if (ext != ".gif" && ext != ".png" && ext != ".mp4")
    throw std::invalid_argument(options.path + ": unknown export format '" + ext +
                                "' (use .gif, .png or .mp4)");
  if (options.width < 0 || options.height < 0 || (options.width == 0) != (options.height == 0))
    throw std::invalid_argument(options.path + ": export size must be WxH with both positive");
  if (!(options.fps > 0.0)) throw std::invalid_argument(options.path + ": fps must be positive");
  const fs::path parent = fs::path(options.path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  ExportReport report = ext == ".gif"   ? export_gif(session, options)
                        : ext == ".png" ? export_sheet(session, options)
                                        : export_mp4(session, options);
  report.path = options.path;
  report.divergence = session.divergence();
  return report;
}

}  // namespace rl::render
