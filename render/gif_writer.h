// Animated GIF files: core's GifEncoder (giflib) writing to a temporary file that finish()
// renames into place.
#pragma once

#include <optional>
#include <string>

#include "core/gif_encoder.h"
#include "core/image.h"

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

  int frames_kept() const { return encoder_ ? encoder_->frames_kept() : 0; }

 private:
  void close_file();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::optional<GifEncoder> encoder_;
  bool finished_ = false;
};

}  // namespace rl::render
