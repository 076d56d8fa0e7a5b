#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
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

// Whether this write should fail (see RLCADE_INJECT_WRITE_FAILURE in the header).
bool inject_failure(const std::string& path) {
  const char* match = std::getenv("RLCADE_INJECT_WRITE_FAILURE");
  if (!match || !*match || path.find(match) == std::string::npos) return false;
  const char* after = std::getenv("RLCADE_INJECT_WRITE_FAILURE_AFTER");
  const long long successes = after ? std::atoll(after) : 0;
  // Matching writes are counted per setting, so that a test can set another one.
  static std::mutex mutex;
  static std::string counted_setting;
  static long long matching_writes = 0;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::string setting = std::string(match) + '\n' + (after ? after : "");
  if (setting != counted_setting) {
    counted_setting = setting;
    matching_writes = 0;
  }
  return matching_writes++ >= successes;
}

// Writes the data to `fd` and flushes it to disk, or (injected) half of it, then fails with
// ENOSPC.
bool write_and_sync(int fd, std::string_view bytes, bool fail) {
  if (fail) {
    write_all(fd, bytes.data(), bytes.size() / 2);
    errno = ENOSPC;
    return false;
  }
  return write_all(fd, bytes.data(), bytes.size()) && ::fsync(fd) == 0;
}

// Flushes a directory entry change (a rename) to disk; best effort.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
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
  const bool injected = inject_failure(path);
  const bool ok = write_and_sync(fd, bytes, injected);
  const std::string reason =
      ok ? "" : os_error() + (injected ? " (injected by RLCADE_INJECT_WRITE_FAILURE)" : "");
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
  sync_directory(target.parent_path());
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
