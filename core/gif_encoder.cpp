#include "core/gif_encoder.h"

#include <gif_lib.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace rl {
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

// giflib's output callback: hands the bytes to the encoder's sink (never lets an exception
// cross giflib's C frames; a failure is reported as nothing written).
int write_to_sink(GifFileType* gif, const GifByteType* bytes, int length) {
  const auto& sink = *static_cast<const GifEncoder::Sink*>(gif->UserData);
  try {
    return sink({bytes, static_cast<size_t>(length)}) ? length : 0;
  } catch (...) {
    return 0;
  }
}

// Indexes `frame` into at most 256 colours: exact when possible, else quantized.
void index_frame(const Image& frame, std::vector<GifByteType>& indices,
                 std::vector<GifColorType>& palette) {
  const size_t n = static_cast<size_t>(frame.width) * frame.height;
  indices.resize(n);
  palette.clear();
  std::unordered_map<uint32_t, GifByteType> lookup;
  bool exact = true;
  uint32_t previous_key = UINT32_MAX;  // Runs of one colour (backgrounds) skip the lookup.
  GifByteType previous_index = 0;
  for (size_t i = 0; i < n && exact; ++i) {
    const uint8_t* p = &frame.pixels[i * 3];
    const uint32_t key = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    if (key != previous_key) {
      auto [it, inserted] = lookup.try_emplace(key, static_cast<GifByteType>(palette.size()));
      if (inserted) {
        if (palette.size() == 256) {
          exact = false;
          break;
        }
        palette.push_back({p[0], p[1], p[2]});
      }
      previous_key = key;
      previous_index = it->second;
    }
    indices[i] = previous_index;
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

GifEncoder::GifEncoder(Sink sink, int width, int height, double fps, std::string name)
    : sink_(std::move(sink)), name_(std::move(name)), width_(width), height_(height) {
  check_format(width, height, fps, name_);
  frame_stride_ = std::max(1, static_cast<int>(std::ceil(fps / 50.0 - 1e-9)));
  centiseconds_per_kept_frame_ = 100.0 * frame_stride_ / fps;
  int error = 0;
  gif_ = EGifOpen(&sink_, write_to_sink, &error);
  if (!gif_) throw std::runtime_error(name_ + ": cannot create GIF: " + gif_error(error));
  try {  // The destructor does not run when the constructor throws: close the file here.
    EGifSetGifVersion(gif_, true);
    if (EGifPutScreenDesc(gif_, width_, height_, 8, 0, nullptr) == GIF_ERROR)
      fail("cannot write the screen descriptor");
    write_loop_extension();
  } catch (...) {
    EGifCloseFile(gif_, &error);
    gif_ = nullptr;
    throw;
  }
}

void GifEncoder::check_format(int width, int height, double fps, const std::string& name) {
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
    throw std::runtime_error(name + ": GIF frame size " + std::to_string(width) + "x" +
                             std::to_string(height) + " is out of range");
  if (!(fps > 0.0) || !std::isfinite(fps))
    throw std::runtime_error(name + ": GIF frame rate must be positive");
}

GifEncoder::~GifEncoder() {
  if (gif_) {
    int error = 0;
    EGifCloseFile(gif_, &error);
  }
}

void GifEncoder::fail(const std::string& what) {
  const int code = gif_ ? gif_->Error : 0;
  throw std::runtime_error(name_ + ": " + what + " (" + gif_error(code) + ")");
}

void GifEncoder::write_loop_extension() {
  static const GifByteType kNetscape[] = "NETSCAPE2.0";
  const GifByteType loop_forever[] = {1, 0, 0};
  if (EGifPutExtensionLeader(gif_, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
      EGifPutExtensionBlock(gif_, 11, kNetscape) == GIF_ERROR ||
      EGifPutExtensionBlock(gif_, 3, loop_forever) == GIF_ERROR ||
      EGifPutExtensionTrailer(gif_) == GIF_ERROR)
    fail("cannot write the loop extension");
}

void GifEncoder::add_frame(const Image& frame) {
  if (finished_) throw std::logic_error("GifEncoder::add_frame after finish()");
  if (frame.width != width_ || frame.height != height_)
    throw std::runtime_error(name_ + ": frame is " + std::to_string(frame.width) + "x" +
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
  if (!map) throw std::runtime_error(name_ + ": out of memory for a GIF palette");
  const int ok = EGifPutImageDesc(gif_, 0, 0, width_, height_, false, map);
  GifFreeMapObject(map);
  if (ok == GIF_ERROR) fail("cannot write a frame header");
  for (int y = 0; y < height_; ++y)
    if (EGifPutLine(gif_, indices.data() + static_cast<size_t>(y) * width_, width_) == GIF_ERROR)
      fail("cannot write frame pixels");
  ++frames_written_;
}

void GifEncoder::finish() {
  if (finished_) return;
  if (frames_written_ == 0) throw std::runtime_error(name_ + ": a GIF needs at least one frame");
  int error = 0;
  const int ok = EGifCloseFile(gif_, &error);
  gif_ = nullptr;
  if (ok == GIF_ERROR) throw std::runtime_error(name_ + ": cannot finish GIF: " + gif_error(error));
  finished_ = true;
}

std::vector<uint8_t> encode_gif(std::span<const Image> frames, double fps) {
  if (frames.empty()) throw std::runtime_error("GIF: a GIF needs at least one frame");
  std::vector<uint8_t> bytes;
  GifEncoder encoder(
      [&bytes](std::span<const uint8_t> chunk) {
        bytes.insert(bytes.end(), chunk.begin(), chunk.end());
        return true;
      },
      frames[0].width, frames[0].height, fps, "GIF");
  for (const Image& frame : frames) encoder.add_frame(frame);
  encoder.finish();
  return bytes;
}

}  // namespace rl
