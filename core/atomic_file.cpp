#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rl {
namespace fs = std::filesystem;

namespace {

std::string os_error() { return std::strerror(errno); }

// Writes all bytes to `fd`, retrying short writes and EINTR.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      throw FileWriteError("cannot create directory " + target.parent_path().string() + ": " +
                           ec.message());
    }
  }
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) throw FileWriteError("cannot create temporary file for " + path + ": " + os_error());
  const bool ok = write_all(fd, bytes.data(), bytes.size()) && ::fsync(fd) == 0;
  const std::string reason = ok ? "" : os_error();
  ::fchmod(fd, 0644);
  if (::close(fd) != 0 || !ok) {
    ::unlink(temp.c_str());
    throw FileWriteError("cannot write " + path + ": " + (ok ? os_error() : reason));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = os_error();
    ::unlink(temp.c_str());
    throw FileWriteError("cannot replace " + path + ": " + why);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + ": " + os_error());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  return buffer.str();
}

}  // namespace rl
