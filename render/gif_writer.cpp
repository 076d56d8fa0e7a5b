#include "render/gif_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace rl::render {
namespace {

// Writes all of `bytes` to `fd`, retrying short writes.
bool write_all(int fd, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written <= 0) return false;
    bytes = bytes.subspan(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

GifWriter::GifWriter(std::string path, int width, int height, double fps) : path_(std::move(path)) {
  const std::filesystem::path target(path_);
  temp_path_ = (target.parent_path() /
                (target.stem().string() + ".tmp" + std::to_string(::getpid()) + ".gif"))
                   .string();
  GifEncoder::check_format(width, height, fps, path_);  // Before creating anything.
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd_ < 0) throw std::runtime_error(path_ + ": cannot create " + temp_path_);
  try {
    encoder_.emplace([this](std::span<const uint8_t> bytes) { return write_all(fd_, bytes); },
                     width, height, fps, path_);
  } catch (...) {
    close_file();
    std::filesystem::remove(temp_path_);
    throw;
  }
}

GifWriter::~GifWriter() {
  encoder_.reset();
  close_file();
  if (!finished_) {
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
  }
}

void GifWriter::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void GifWriter::add_frame(const Image& frame) {
  if (finished_) throw std::logic_error("GifWriter::add_frame after finish()");
  encoder_->add_frame(frame);
}

void GifWriter::finish() {
  if (finished_) return;
  encoder_->finish();
  const bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!closed) throw std::runtime_error(path_ + ": cannot write " + temp_path_);
  std::error_code ec;
  std::filesystem::rename(temp_path_, path_, ec);
  if (ec) throw std::runtime_error(path_ + ": cannot move the GIF into place: " + ec.message());
  finished_ = true;
}

}  // namespace rl::render
