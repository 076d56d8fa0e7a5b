// Animated GIF encoding through giflib (Debian libgif), to any byte sink: one local palette
// per frame, exact when a frame has at most 256 colours (env renders usually do), else
// giflib's quantizer. render/gif_writer writes files with it; TensorBoard event files embed
// the bytes (encode_gif).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/image.h"

struct GifFileType;

namespace rl {

class GifEncoder {
 public:
  // Receives the encoded bytes in order; returns false when they could not be stored.
  using Sink = std::function<bool(std::span<const uint8_t> bytes)>;

  // Starts a looping GIF of width x height frames played at `fps`. GIF delays are whole
  // centiseconds and players clamp delays below 2 cs, so above 50 fps only every n-th frame
  // is kept (see frames_kept()). `name` starts every error message (e.g. the file's path).
  // Throws std::runtime_error for a size or frame rate out of range or a failing sink.
  GifEncoder(Sink sink, int width, int height, double fps, std::string name);
  ~GifEncoder();
  GifEncoder(const GifEncoder&) = delete;
  GifEncoder& operator=(const GifEncoder&) = delete;

  // Appends a frame of exactly width x height. Throws std::runtime_error on size mismatch or
  // when the sink fails.
  void add_frame(const Image& frame);
  // Writes the trailer. Throws std::runtime_error without frames or when the sink fails.
  void finish();

  int frames_kept() const { return frames_written_; }

  // The constructor's argument checks alone (std::runtime_error starting with `name`).
  static void check_format(int width, int height, double fps, const std::string& name);

 private:
  void fail(const std::string& what);
  void write_loop_extension();

  Sink sink_;
  std::string name_;
  GifFileType* gif_ = nullptr;
  int width_, height_;
  int frame_stride_ = 1;  // Keep every n-th frame offered.
  double centiseconds_per_kept_frame_ = 0.0;
  long frames_offered_ = 0;
  int frames_written_ = 0;
  bool finished_ = false;
};

// The frames (all of the first frame's size) as one looping GIF in memory. Throws
// std::runtime_error for no frames or frames of different sizes.
std::vector<uint8_t> encode_gif(std::span<const Image> frames, double fps);

}  // namespace rl
