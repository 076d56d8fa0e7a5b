// Helpers of the file fuzzers (checkpoint, replay, config): the readers under test take paths,
// so each input is written to a scratch file first, and an error must name that file.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace rl::fuzz {

// Where the scratch files go: $RLCADE_FUZZ_SCRATCH if set, else /dev/shm when it exists, else
// $TMPDIR, else /tmp. Memory-backed storage matters: on a disk file system (ext4 mounted with
// `discard`) truncating and rewriting a file per input waits on the disk: 317 instead of 10000
// replays/s, 285 instead of 1428 configs/s. The readers under test still open a real file.
inline std::filesystem::path scratch_root() {
  const char* chosen = std::getenv("RLCADE_FUZZ_SCRATCH");
  if (chosen && *chosen) return chosen;
  std::error_code ignored;
  if (std::filesystem::is_directory("/dev/shm", ignored)) return "/dev/shm";
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

// A per-process scratch file `name` (in scratch_root()) overwritten with each input. The
// folder is removed when the fuzzer exits normally; a crash leaves it for inspection.
inline std::string write_scratch(const std::string& name, std::string_view bytes) {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = scratch_root() / ("rlcade_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static const std::filesystem::path to_remove = d;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(to_remove, ignored);
    });
    return d;
  }();
  const std::string path = (dir / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Stops the fuzzer when an error message does not say which file it is about.
inline void require_names_file(const std::string& message, const std::string& path) {
  if (message.find(std::filesystem::path(path).filename().string()) == std::string::npos) {
    std::fprintf(stderr, "error message does not name %s: %s\n", path.c_str(), message.c_str());
    std::abort();
  }
}

inline void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace rl::fuzz
