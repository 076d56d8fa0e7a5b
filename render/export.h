// Headless export of an episode (no window, no display): animated GIF (giflib), PNG frame
// sheet (sf::Image, which needs no window) or MP4 (through ffmpeg, only when installed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/replay_file.h"
#include "render/watch_session.h"

namespace rl::render {

struct ExportOptions {
  std::string path;   // The extension picks the format: .gif, .png or .mp4.
  int width = 0;      // Frames are fitted into width x height keeping their aspect ratio;
  int height = 0;     // 0 x 0: default_frame_area() (.gif/.mp4), or tiles fitted in 240x240 (.png).
  double fps = 30.0;  // Env steps per second of playback (.gif/.mp4).
  int64_t max_frames = 100000;  // Stops long live episodes.
  int sheet_tiles = 36;         // .png: at most this many frames, evenly spaced, in a grid.
  // .mp4: the ffmpeg program, a bare name looked up on PATH or a path. It is run as
  // `ffmpeg -f rawvideo -pix_fmt rgb24 -s WxH -r FPS -i - -pix_fmt yuv420p -c:v libx264 OUT`
  // with the frames (padded to even sizes) on its standard input.
  std::string ffmpeg = "ffmpeg";
};

struct ExportReport {
  std::string path;
  int64_t frames = 0;          // Frames rendered: the first observation plus one per step.
  int64_t frames_written = 0;  // Frames in the file (GIFs above 50 fps and sheets keep fewer).
  int width = 0, height = 0;   // Size of one frame in the file.
  std::optional<Divergence> divergence;  // Replays whose re-simulation disagreed.
};

// Renders the session's current episode from its current state to its end (or max_frames)
// and writes it. Throws std::invalid_argument naming the file for an unknown extension or a
// bad size or fps, and std::runtime_error for a missing ffmpeg (.mp4: the message names the
// program and how to install it), an ffmpeg that fails, or a write failure; nothing is left at
// `path` then.
ExportReport export_episode(WatchSession& session, const ExportOptions& options);

// The executable `program` resolves to (a bare name is looked up on PATH), or "" if none.
std::string find_program(const std::string& program);
// True when `program` (default: ffmpeg on PATH) is an executable.
bool ffmpeg_available(const std::string& program = "ffmpeg");

}  // namespace rl::render
