#include "render/gif_writer.h"

#include <fcntl.h>
#include <gif_lib.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace rl::render {
namespace {

std::string gif_error(int code) {
  const char* text = GifErrorString(code);
  return text ? text : "giflib error " + std::to_string(code);
}

int palette_size_for(int colors) {
  int size = 2;
  while (size < colors) size *= 2;
  return size;
}

// Indexes `frame` into at most 256 colours: exact when possible, else quantized.
void index_frame(const Image& frame, std::vector<GifByteType>& indices,
                 std::vector<GifColorType>& palette) {
  const size_t n = static_cast<size_t>(frame.width) * frame.height;
  indices.resize(n);
  palette.clear();
  std::unordered_map<uint32_t, GifByteType> lookup;
  bool exact = true;
  for (size_t i = 0; i < n && exact; ++i) {
    const uint8_t* p = &frame.pixels[i * 3];
    const uint32_t key = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    auto [it, inserted] = lookup.try_emplace(key, static_cast<GifByteType>(palette.size()));
    if (inserted) {
      if (palette.size() == 256) {
        exact = false;
        break;
      }
      palette.push_back({p[0], p[1], p[2]});
    }
    indices[i] = it->second;
  }
  if (exact) return;
  std::vector<GifByteType> red(n), green(n), blue(n);
  for (size_t i = 0; i < n; ++i) {
    red[i] = frame.pixels[i * 3];
    green[i] = frame.pixels[i * 3 + 1];
    blue[i] = frame.pixels[i * 3 + 2];
  }
  int colors = 256;
  palette.assign(256, GifColorType{0, 0, 0});
  if (GifQuantizeBuffer(static_cast<unsigned>(frame.width), static_cast<unsigned>(frame.height),
                        &colors, red.data(), green.data(), blue.data(), indices.data(),
                        palette.data()) == GIF_ERROR)
    throw std::runtime_error("giflib could not quantize a frame");
  palette.resize(static_cast<size_t>(std::max(colors, 1)));
}

}  // namespace

GifWriter::GifWriter(std::string path, int width, int height, double fps)
    : path_(std::move(path)), width_(width), height_(height) {
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
    throw std::runtime_error(path_ + ": GIF frame size " + std::to_string(width) + "x" +
                             std::to_string(height) + " is out of range");
  if (!(fps > 0.0) || !std::isfinite(fps))
    throw std::runtime_error(path_ + ": GIF frame rate must be positive");
  frame_stride_ = std::max(1, static_cast<int>(std::ceil(fps / 50.0 - 1e-9)));
  centiseconds_per_kept_frame_ = 100.0 * frame_stride_ / fps;
  const std::filesystem::path target(path_);
  temp_path_ = (target.parent_path() /
                (target.stem().string() + ".tmp" + std::to_string(::getpid()) + ".gif"))
                   .string();
  int error = 0;
  // Not EGifOpenFileName: it creates files readable by their owner only.
  const int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) throw std::runtime_error(path_ + ": cannot create " + temp_path_);
  gif_ = EGifOpenFileHandle(fd, &error);
  if (!gif_) {
    ::close(fd);
    std::filesystem::remove(temp_path_);
    throw std::runtime_error(path_ + ": cannot create GIF: " + gif_error(error));
  }
  EGifSetGifVersion(gif_, true);
  if (EGifPutScreenDesc(gif_, width_, height_, 8, 0, nullptr) == GIF_ERROR)
    fail("cannot write the screen descriptor");
  write_loop_extension();
}

GifWriter::~GifWriter() {
  if (gif_) {
    int error = 0;
    EGifCloseFile(gif_, &error);
  }
  if (!finished_) {
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
  }
}

void GifWriter::fail(const std::string& what) {
  const int code = gif_ ? gif_->Error : 0;
  throw std::runtime_error(path_ + ": " + what + " (" + gif_error(code) + ")");
}

void GifWriter::write_loop_extension() {
  static const GifByteType kNetscape[] = "NETSCAPE2.0";
  const GifByteType loop_forever[] = {1, 0, 0};
  if (EGifPutExtensionLeader(gif_, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
      EGifPutExtensionBlock(gif_, 11, kNetscape) == GIF_ERROR ||
      EGifPutExtensionBlock(gif_, 3, loop_forever) == GIF_ERROR ||
      EGifPutExtensionTrailer(gif_) == GIF_ERROR)
    fail("cannot write the loop extension");
}

void GifWriter::add_frame(const Image& frame) {
  if (finished_) throw std::logic_error("GifWriter::add_frame after finish()");
  if (frame.width != width_ || frame.height != height_)
    throw std::runtime_error(path_ + ": frame is " + std::to_string(frame.width) + "x" +
                             std::to_string(frame.height) + ", the GIF is " +
                             std::to_string(width_) + "x" + std::to_string(height_));
  if (frames_offered_++ % frame_stride_ != 0) return;

  std::vector<GifByteType> indices;
  std::vector<GifColorType> palette;
  index_frame(frame, indices, palette);
  // Delays are rounded on the running total so that long GIFs keep their overall pace.
  const auto delay =
      static_cast<int>(std::lround((frames_written_ + 1) * centiseconds_per_kept_frame_) -
                       std::lround(frames_written_ * centiseconds_per_kept_frame_));
  GraphicsControlBlock control{DISPOSE_DO_NOT, false, std::max(2, delay), NO_TRANSPARENT_COLOR};
  GifByteType extension[4];
  const size_t extension_size = EGifGCBToExtension(&control, extension);
  if (EGifPutExtension(gif_, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(extension_size), extension) ==
      GIF_ERROR)
    fail("cannot write a frame delay");

  const int map_size = palette_size_for(static_cast<int>(palette.size()));
  palette.resize(static_cast<size_t>(map_size), GifColorType{0, 0, 0});
  ColorMapObject* map = GifMakeMapObject(map_size, palette.data());
  if (!map) throw std::runtime_error(path_ + ": out of memory for a GIF palette");
  const int ok = EGifPutImageDesc(gif_, 0, 0, width_, height_, false, map);
  GifFreeMapObject(map);
  if (ok == GIF_ERROR) fail("cannot write a frame header");
  for (int y = 0; y < height_; ++y)
    if (EGifPutLine(gif_, indices.data() + static_cast<size_t>(y) * width_, width_) == GIF_ERROR)
      fail("cannot write frame pixels");
  ++frames_written_;
}

void GifWriter::finish() {
  if (finished_) return;
  if (frames_written_ == 0) throw std::runtime_error(path_ + ": a GIF needs at least one frame");
  int error = 0;
  const int ok = EGifCloseFile(gif_, &error);
  gif_ = nullptr;
  if (ok == GIF_ERROR) throw std::runtime_error(path_ + ": cannot finish GIF: " + gif_error(error));
  std::error_code ec;
  std::filesystem::rename(temp_path_, path_, ec);
  if (ec) throw std::runtime_error(path_ + ": cannot move the GIF into place: " + ec.message());
  finished_ = true;
}

}  // namespace rl::render
