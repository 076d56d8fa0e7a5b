// Animated GIF output through giflib (Debian libgif): one local palette per frame, exact when
// a frame has at most 256 colours (env renders usually do), else giflib's quantizer.
#pragma once

#include <string>

#include "core/image.h"

struct GifFileType;

namespace rl::render {

class GifWriter {
 public:
  // Starts writing `path` (through a temporary file, renamed into place by finish()).
  // Frames play at `fps`; GIF delays are whole centiseconds and players clamp delays below
  // 2 cs, so above 50 fps only every n-th frame is kept (see frames_kept()).
  // Throws std::runtime_error naming the file when it cannot be created.
  GifWriter(std::string path, int width, int height, double fps);
  ~GifWriter();  // Removes the temporary file unless finish() succeeded.
  GifWriter(const GifWriter&) = delete;
  GifWriter& operator=(const GifWriter&) = delete;

  // Appends a frame of exactly width x height. Throws std::runtime_error on size mismatch or
  // write errors.
  void add_frame(const Image& frame);
  // Completes the file and moves it to `path`. Throws std::runtime_error on failure.
  void finish();

  int frames_kept() const { return frames_written_; }

 private:
  void fail(const std::string& what);
  void write_loop_extension();

  std::string path_;
  std::string temp_path_;
  GifFileType* gif_ = nullptr;
  int width_, height_;
  int frame_stride_ = 1;  // Keep every n-th frame offered.
  double centiseconds_per_kept_frame_ = 0.0;
  long frames_offered_ = 0;
  int frames_written_ = 0;
  bool finished_ = false;
};

}  // namespace rl::render
